package client

import (
	"strconv"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/presence"
	"github.com/collabedit/collab/protocol"
)

// Client → server frames, encoded by hand like the server's (protocol has
// only the server → client encoders).

// openFrame encodes {"type":"open","doc":…,"presence":true} plus "version"
// when resume and "route":true when route.
func openFrame(doc string, version int64, resume, route bool) []byte {
	b := []byte(`{"type":"open","presence":true,"doc":`)
	if route {
		b = []byte(`{"type":"open","presence":true,"route":true,"doc":`)
	}
	b = protocol.AppendString(b, doc)
	if resume {
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, version, 10)
	}
	return append(b, '}')
}

// opFrame encodes {"type":"op","doc":…,"version":…,"id":…,"op":[…]}.
func opFrame(doc string, version int64, id string, op document.Op) []byte {
	b := []byte(`{"type":"op","doc":`)
	b = protocol.AppendString(b, doc)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, version, 10)
	b = append(b, `,"id":`...)
	b = protocol.AppendString(b, id)
	b = append(b, `,"op":`...)
	b = op.AppendJSON(b)
	return append(b, '}')
}

// closeFrame encodes {"type":"close","doc":…}.
func closeFrame(doc string) []byte {
	b := []byte(`{"type":"close","doc":`)
	b = protocol.AppendString(b, doc)
	return append(b, '}')
}

// presenceFrame encodes {"type":"presence","doc":…,"version":…,"session":…,
// "name":…,"color":…,"selection":{…}}.
func presenceFrame(doc string, version int64, p presence.Peer) []byte {
	b := []byte(`{"type":"presence","doc":`)
	b = protocol.AppendString(b, doc)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, version, 10)
	b = append(b, `,"session":`...)
	b = protocol.AppendString(b, p.Session)
	b = append(b, `,"name":`...)
	b = protocol.AppendString(b, p.Name)
	b = append(b, `,"color":`...)
	b = protocol.AppendString(b, p.Color)
	if s := p.Selection; s != nil {
		b = append(b, `,"selection":{"anchor":`...)
		b = strconv.AppendInt(b, int64(s.Anchor), 10)
		b = append(b, `,"head":`...)
		b = strconv.AppendInt(b, int64(s.Head), 10)
		b = append(b, '}')
	}
	return append(b, '}')
}
