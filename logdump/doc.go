// Package logdump moves a whole event log between stores: Write dumps
// every event of a log, in commit order, as JSON lines with a SHA-256
// checksum; Read checks a dump and loads it into an empty log, taking a
// snapshot every few versions of each document as the hub does. The
// server's export and import commands use it to move from SQLite to
// PostgreSQL and back (docs/scaling.md).
//
// # Format
//
//	{"format":"collab-eventlog","version":1,"created":"2026-11-30T08:00:00Z"}
//	{"seq":1,"doc":"notes","v":0,"id":"k3:1","author":"ann","time":1764489600000000000,"op":["Hello"],"size":5}
//	{"seq":2,"doc":"notes","v":1,"id":"life-…","author":"ann","time":…,"op":[],"prev":"k3:1","size":5,"kind":"rename","meta":{"title":"Notes"}}
//	…
//	{"end":true,"events":2,"sha256":"9f2c…"}
//
// One event per line, in seq (commit) order, with its payload in the
// current schema (older rows are upcast on the way out). The last line
// counts the events and carries the SHA-256 of every byte before it, so
// a truncated or altered dump is refused before anything is written.
// Snapshots are not dumped: they are derived data, rebuilt on load.
//
// # What a load keeps and what it cannot
//
// Every event keeps its document, version, op id, author, time, op,
// predecessor, size, kind and details; the target assigns its own seq in
// the same order, so the change feed and projections of the target see
// the same sequence of events (numbered afresh). A purged document left
// only its purge event, which no store accepts without the events it
// replaced: it is skipped (counted in Stats.Skipped), so the target knows
// nothing of it and its id is free again there.
//
// # Concurrency
//
// Write reads the log in pages with Since and may run while the server
// writes: it dumps the events committed when each page is read, up to
// the last seq it saw when it started. Read pipelines appends (at most
// 1024 in flight, each answered through its callback) from the calling
// goroutine and waits for all of them before it returns.
package logdump
