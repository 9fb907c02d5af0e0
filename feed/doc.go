// Package feed serves the change feed, GET /api/v1/changes: every event
// committed to the event log, in global-sequence (commit) order, as
// Server-Sent Events, for integrations that follow the log from outside
// the server (a search index, a backup, a webhook relay).
//
// # Resuming
//
// Each event is sent as
//
//	id: <seq>
//	event: op
//	data: {"seq":…,"doc":…,"version":…,"id":…,"author":…,"time":…,"op":[…]}
//
// A client resumes after the last seq it processed with ?from=<seq> or
// the Last-Event-ID header (which browsers' EventSource send on their own
// when they reconnect; it wins over from). The log's seq order equals its
// commit order (eventlog), so reading Since(last) never skips an event
// that commits later with a lower seq: resuming from any position yields
// every later event exactly once, in order.
//
// # Live events, heartbeats, slow clients
//
// A stream first catches up in batches (Config.Batch events per read),
// then polls the log every Config.Poll for new commits. A comment line is
// sent every Config.Heartbeat while nothing else is, so proxies keep the
// connection. Each batch is written and flushed under a write deadline
// (Config.WriteTimeout): a client that does not read that fast is
// disconnected, and resumes with Last-Event-ID. A stream thus holds at
// most one batch in memory.
//
// # Access
//
// Config.Access decides, per request, which documents' events it may see
// (cmd/server passes the same rule as GET /api/docs); events of other
// documents are skipped. ?doc=<id> restricts the stream to one document.
//
// # Concurrency
//
// A Handler is safe for concurrent use; each request streams on its own
// goroutine (net/http's) until the client leaves, the write deadline
// passes, the log fails, or Close is called.
package feed
