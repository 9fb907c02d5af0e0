package loadgen

import (
	"bytes"
	"strconv"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/protocol"
)

// frameKind is the type of a server frame as far as raw clients care.
type frameKind uint8

const (
	kindOther frameKind = iota
	kindOp
	kindAck
	kindSnapshot
	kindOpened
	kindError
)

// Prefixes of the frames the server encodes by hand (protocol.Append*):
// the type comes first, then doc, then version.
var kindPrefixes = []struct {
	prefix []byte
	kind   frameKind
}{
	{[]byte(`{"type":"op",`), kindOp},
	{[]byte(`{"type":"ack",`), kindAck},
	{[]byte(`{"type":"snapshot",`), kindSnapshot},
	{[]byte(`{"type":"opened",`), kindOpened},
	{[]byte(`{"type":"error",`), kindError},
}

var versionKey = []byte(`,"version":`)

// scanFrame reads a frame's kind and version without decoding it: a raw
// reader receives every op of a hot document (2,000 a second for each of
// hundreds of readers) and needs only these two fields, while
// protocol.DecodeMessage costs about 2 µs and several allocations each.
// Document ids cannot contain quotes, so the first ,"version": is the
// field itself. ok is false for frames not in the server's usual form,
// which callers decode with protocol.DecodeMessage.
func scanFrame(b []byte) (kind frameKind, version int64, ok bool) {
	for _, p := range kindPrefixes {
		if bytes.HasPrefix(b, p.prefix) {
			kind = p.kind
			break
		}
	}
	if kind == kindOther || kind == kindError {
		return kind, 0, false
	}
	i := bytes.Index(b, versionKey)
	if i < 0 {
		return kind, 0, false
	}
	i += len(versionKey)
	j := i
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	v, err := strconv.ParseInt(string(b[i:j]), 10, 64)
	if err != nil {
		return kind, 0, false
	}
	return kind, v, true
}

// openFrame encodes an open, with "version" when resume.
func openFrame(doc string, version int64, resume bool) []byte {
	return protocol.AppendRequest(nil, protocol.Request{Type: protocol.TypeOpen, Doc: doc, Version: version, HasVersion: resume})
}

// appendOpFrame appends an op request to b.
func appendOpFrame(b []byte, doc string, version int64, id string, op document.Op) []byte {
	return protocol.AppendRequest(b, protocol.Request{Type: protocol.TypeOp, Doc: doc, Version: version, HasVersion: true, ID: id, Op: op})
}

// snapshot is a decoded snapshot frame.
type snapshot struct {
	text    string
	version int64
}

// decodeSnapshot decodes a snapshot frame in full (once per connection).
func decodeSnapshot(b []byte) (snapshot, error) {
	m, err := protocol.DecodeMessage(b)
	if err != nil {
		return snapshot{}, err
	}
	return snapshot{text: m.Text, version: m.Version}, nil
}
