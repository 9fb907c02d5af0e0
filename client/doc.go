// Package client is the Go client of protocol v1 (docs/protocol.md): it
// keeps local copies of documents in sync with a collab server over one
// WebSocket, applying local edits optimistically and merging remote ones
// with operational transformation (package document).
//
// Role. A Client is one editing session (its ClientID prefixes every op
// id). Open subscribes to a document and returns a Doc whose Text is the
// server state plus the local edits not yet acknowledged. Edits (Submit,
// Insert, Delete) apply at once; one op per document is in flight at a
// time and later edits are composed into a single buffered op, so a fast
// typist costs one round trip per batch, not per keystroke. Dropped
// connections are re-established with exponential backoff and every
// document is reopened from its last known version; the in-flight op is
// resent with the same id so the server never applies it twice. The full
// state machine, including recovery from a snapshot while edits are
// pending, is described in state.go.
//
// Concurrency. Each connection (session) has exactly one reader goroutine,
// which decodes server frames and runs them through the documents' state
// machines, and exactly one writer goroutine, the only one writing to the
// socket, fed by a non-blocking queue. A supervisor goroutine owns the
// connection: it attaches sessions to documents, waits for a session to
// end, and reconnects. Retry timers run as goroutines owned by the client.
// Close cancels the client's context and waits for all of them. Each Doc
// guards its state with its own mutex, so Client and Doc methods are safe
// for concurrent use; the hooks in Config run on the reader goroutine (or
// a retry timer) after the lock is released, and must not block.
package client
