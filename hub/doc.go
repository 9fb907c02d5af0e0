// Package hub is the server side of the editing protocol: it accepts
// WebSocket connections, sequences each document's ops, stores them through
// the event log and fans them out.
//
// # Structure
//
// A room owns one open document in a single goroutine. Every command on the
// document (open, op, leave) and every commit result passes through that
// goroutine, so versions are assigned without locks or retries: a stale op
// is transformed against the retained history, never bounced back. Rooms
// with no subscribers unload after Config.IdleTimeout, keeping memory
// bounded by the documents in use.
//
// A conn is one socket: its reader runs on the HTTP handler goroutine and
// forwards decoded requests to rooms; its single writer goroutine drains a
// send queue bounded in bytes. Rooms never wait on a socket: they push
// already-encoded frames (one encoding per broadcast, shared by every
// recipient) and a connection whose queue overflows is closed with 4001 so
// it never slows anyone else.
//
// # Commit pipeline
//
// An accepted op is appended to the log asynchronously; the store's group
// commit answers in submission order. Only then does the room apply it to
// the committed text, ack the author and broadcast it, so nothing that is
// not durable is ever shown. Several ops of one document can be in flight
// at once, which is what lets a hot document exceed one op per fsync.
//
// # Goroutines
//
// Hub.Close owns every goroutine: it cancels the rooms (each exits once its
// pending commits are answered), then each connection flushes its queue,
// sends close 1001 and stops its writer. Close returns when all are gone.
package hub
