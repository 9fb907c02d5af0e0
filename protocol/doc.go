// Package protocol is the wire format of protocol v1 (see docs/protocol.md):
// the JSON messages exchanged over the WebSocket at /ws, the stable error
// codes, and the close codes the server uses.
//
// Decoding is strict at the edge: DecodeRequest turns a client frame into a
// Request or an *Error carrying the protocol code the client branches on, so
// the hub never sees malformed input. Encoding appends to a caller's buffer
// (AppendAck, AppendOp, ...) so that a broadcast is encoded once and the same
// bytes are queued to every recipient.
//
// Peer and Selection, the presence extension's values, live here too: they
// are part of the wire format, and package presence only stores them. So
// protocol depends on nothing but the standard library and package
// document, and a client of the wire format (package client, a load
// generator) links no Redis client; TestNoRedisDeps keeps it that way.
//
// Everything here is pure functions and immutable values: safe for concurrent
// use without locks.
package protocol
