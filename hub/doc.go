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
// A conn is one socket: its reader runs on a goroutine the hub starts
// after the upgrade (ServeHTTP returns, so net/http frees what it kept for
// the request) and forwards decoded requests to rooms; its single writer
// goroutine drains a send queue bounded in bytes. The writer runs only
// while there is something to send (frames, a due ping, the close frame)
// and exits after a second idle, so an idle socket costs one goroutine. Rooms never wait on a socket: they push
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
// # Several processes
//
// With a Bus other than the default, several processes serve the same
// documents. The lease store alone decides each room's role, through an
// explicit state machine (ownership.go): owning (this process holds the
// lease: it sequences, commits, then publishes each event), following
// (another holds it: the room applies published events for its own
// clients and forwards their ops to the holder, resending them with the
// same id until they come back committed), or acquiring (no owner known:
// ops wait for the store's answer, or are refused with unavailable when it
// cannot be reached). A room asks the store on a goroutine of its own, at
// most one question at a time: an owner renews every third of the TTL and
// stops sequencing a tenth of the TTL before its lease could expire
// unrenewed; a follower checks the holder at the same pace, so a lease
// that nobody holds is taken within TTL/3; a room that knows no owner asks
// every tick. Ownership is never inferred from events: two processes that
// each inferred the other owned a document once refused its ops for good.
// Every event carries its version: a follower that sees a gap, a
// resubscribe signal, or nothing for Config.PositionCheck reads the shared
// log. The log's guards, not the lease, are what make a deposed owner
// harmless. Publishing runs on a few goroutines owned by the hub
// (publish.go), with calls bounded by a third of the lease TTL, so a slow
// or paused Redis never blocks a room; without a Bus nothing is published
// at all, and every room owns its document for good.
//
// # Faults and bounds
//
// The store may answer an append at once (its queue full), in order, or
// not for a long time (a stuck disk): results are released in version
// order, an op not confirmed within Config.CommitTimeout is answered
// unavailable (its outcome not known yet; a resend with the same id
// settles it), and a failed commit makes the room reload from the log
// once nothing is pending, delivering what subscribers missed in order.
// Each document's history, ops waiting to be stored and catch-ups are
// bounded in bytes, each connection's inserted text by a token bucket; a
// large document's unload hands its memory back to the operating system.
//
// # Goroutines
//
// Hub.Close owns every goroutine: it cancels the rooms (each exits once its
// pending commits are answered, releasing its lease), stops the publisher
// goroutines after they send what is queued, then each connection flushes
// its queue, sends close 1001 and stops its writer. Close returns when all
// are gone.
package hub
