package protocol

import (
	"encoding/json"
	"strconv"

	"github.com/collabedit/collab/document"
)

// Server → client message types of protocol v1.
const (
	TypeSnapshot = "snapshot"
	TypeOpened   = "opened"
	TypeAck      = "ack"
	TypeError    = "error"
	// TypeOp ("op") is shared with the client → server direction.
)

// AppendSnapshot appends {"type":"snapshot","doc":…,"version":…,"text":…}.
func AppendSnapshot(dst []byte, doc string, version int64, text string) []byte {
	dst = appendHead(dst, TypeSnapshot, doc, version)
	dst = append(dst, `,"text":`...)
	dst = AppendString(dst, text)
	return append(dst, '}')
}

// AppendOpened appends {"type":"opened","doc":…,"version":…}.
func AppendOpened(dst []byte, doc string, version int64) []byte {
	return append(appendHead(dst, TypeOpened, doc, version), '}')
}

// AppendAck appends {"type":"ack","doc":…,"version":…,"id":…}.
func AppendAck(dst []byte, doc, id string, version int64) []byte {
	dst = appendHead(dst, TypeAck, doc, version)
	dst = append(dst, `,"id":`...)
	dst = AppendString(dst, id)
	return append(dst, '}')
}

// AppendOp appends {"type":"op","doc":…,"version":…,"id":…,"op":[…],"author":…};
// author is left out when empty.
func AppendOp(dst []byte, doc string, version int64, id, author string, op document.Op) []byte {
	dst = appendHead(dst, TypeOp, doc, version)
	dst = append(dst, `,"id":`...)
	dst = AppendString(dst, id)
	dst = append(dst, `,"op":`...)
	dst = op.AppendJSON(dst)
	if author != "" {
		dst = append(dst, `,"author":`...)
		dst = AppendString(dst, author)
	}
	return append(dst, '}')
}

// AppendError appends {"type":"error","code":…,"message":…} with doc and id
// when set.
func AppendError(dst []byte, e *Error) []byte {
	dst = append(dst, `{"type":"error","code":`...)
	dst = AppendString(dst, string(e.Code))
	dst = append(dst, `,"message":`...)
	dst = AppendString(dst, e.Message)
	if e.Doc != "" {
		dst = append(dst, `,"doc":`...)
		dst = AppendString(dst, e.Doc)
	}
	if e.ID != "" {
		dst = append(dst, `,"id":`...)
		dst = AppendString(dst, e.ID)
	}
	if e.Session != "" {
		dst = append(dst, `,"session":`...)
		dst = AppendString(dst, e.Session)
	}
	return append(dst, '}')
}

func appendHead(dst []byte, typ, doc string, version int64) []byte {
	dst = append(dst, `{"type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, `","doc":`...)
	dst = AppendString(dst, doc)
	dst = append(dst, `,"version":`...)
	return strconv.AppendInt(dst, version, 10)
}

// Presence messages (extension). A roster lists everyone in the document
// and is sent after a successful open; presence and left report changes.
const (
	TypeRoster = "roster"
	TypeLeft   = "left"
	// TypePresence ("presence") is shared with the client → server direction.
)

// AppendRoster appends {"type":"roster","doc":…,"peers":[…]}.
func AppendRoster(dst []byte, doc string, peers []Peer) []byte {
	dst = append(dst, `{"type":"roster","doc":`...)
	dst = AppendString(dst, doc)
	dst = append(dst, `,"peers":[`...)
	for i, p := range peers {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendPeer(dst, p)
	}
	return append(dst, "]}"...)
}

// AppendPresence appends {"type":"presence","doc":…,"peer":{…}}.
func AppendPresence(dst []byte, doc string, p Peer) []byte {
	dst = append(dst, `{"type":"presence","doc":`...)
	dst = AppendString(dst, doc)
	dst = append(dst, `,"peer":`...)
	return append(appendPeer(dst, p), '}')
}

// AppendLeft appends {"type":"left","doc":…,"session":…}.
func AppendLeft(dst []byte, doc, session string) []byte {
	dst = append(dst, `{"type":"left","doc":`...)
	dst = AppendString(dst, doc)
	dst = append(dst, `,"session":`...)
	dst = AppendString(dst, session)
	return append(dst, '}')
}

func appendPeer(dst []byte, p Peer) []byte {
	b, _ := json.Marshal(p) // strings, ints and a small struct: cannot fail
	return append(dst, b...)
}

// AppendString appends s as a JSON string (see document.AppendJSONString).
func AppendString(dst []byte, s string) []byte { return document.AppendJSONString(dst, s) }

// TypePong (extension, §16) answers a ping, echoing its id.
const TypePong = "pong"

// AppendPong appends {"type":"pong"} or {"type":"pong","id":…}.
func AppendPong(dst []byte, id string) []byte {
	dst = append(dst, `{"type":"pong"`...)
	if id != "" {
		dst = append(dst, `,"id":`...)
		dst = AppendString(dst, id)
	}
	return append(dst, '}')
}

// TypeMoved (extension, §15) answers an open that asked to be routed: the
// document's owner serves clients at URL, and this connection did not open
// it.
const TypeMoved = "moved"

// AppendMoved appends {"type":"moved","doc":…,"url":…}.
func AppendMoved(dst []byte, doc, url string) []byte {
	dst = append(dst, `{"type":"moved","doc":`...)
	dst = AppendString(dst, doc)
	dst = append(dst, `,"url":`...)
	dst = AppendString(dst, url)
	return append(dst, '}')
}
