package client

import (
	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/protocol"
)

// Client → server frames, named for the state machine's call sites; the
// encoding is protocol.AppendRequest's.

// openFrame asks for presence always, for "version" when resume and for
// routing when route.
func openFrame(doc string, version int64, resume, route bool) []byte {
	return protocol.AppendRequest(nil, protocol.Request{Type: protocol.TypeOpen, Doc: doc,
		Version: version, HasVersion: resume, Presence: true, Route: route})
}

func opFrame(doc string, version int64, id string, op document.Op) []byte {
	return protocol.AppendRequest(nil, protocol.Request{Type: protocol.TypeOp, Doc: doc,
		Version: version, HasVersion: true, ID: id, Op: op})
}

func closeFrame(doc string) []byte {
	return protocol.AppendRequest(nil, protocol.Request{Type: protocol.TypeClose, Doc: doc})
}

// presenceFrame states p at version (its selection refers to it).
func presenceFrame(doc string, version int64, p protocol.Peer) []byte {
	return protocol.AppendRequest(nil, protocol.Request{Type: protocol.TypePresence, Doc: doc,
		Version: version, HasVersion: true, Peer: p})
}
