// Package query is the HTTP query API of the collaborative editor
// (docs/api.md): JSON answers under /api/v1 about documents — the list
// and full-text search (from the read models of package readmodel,
// through a Reader, i.e. the projector), and each document's current
// text, text as of a version or a time, history grouped into editing
// sessions, authorship runs and a diff between two versions.
//
// Answers from a read model carry "position" (projection.Position: the
// global sequence the read model reflects and how far behind the log it
// is); answers computed from the event log carry "read" (ReadPosition:
// the document version and the global sequence of the last event
// included).
//
// Text as of a version is the nearest snapshot at or below it
// (eventlog.Store.SnapshotAt; the hub snapshots every 200 versions) plus
// a replay of the events after it, so its cost is bounded by the
// snapshot interval, not by the document's history. A diff composes the
// ops between its two versions (pairwise, in a balanced tree) and reads
// the composition against the older text; it spans at most 100,000
// versions. Every request is bounded to 10 s.
//
// Routes registers the handlers; cmd/server passes its Access (the
// document list's filter), so every route sees exactly the documents
// GET /api/docs lists: the list and search leave out the others, and the
// per-document routes answer 403 for them.
package query
