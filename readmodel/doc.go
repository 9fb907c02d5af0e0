// Package readmodel holds the read models the query API serves, each a
// projection.Projection fed the event log's events in global-sequence
// order by the projector (package projection):
//
//   - Docs ("docs"): the document list — title (catalog.Title of the
//     first line), size in code points, version, created (time of version
//     0), last changed, last author, number of distinct authors.
//   - Search ("search"): full-text search over each document's current
//     text, with SQLite FTS4 (why not FTS5: see Search).
//   - Authorship ("authorship"): which author wrote each surviving code
//     point, as runs (doc, start, len, author).
//
// All returns them for registration; ListDocs, SearchDocs and ReadRuns
// read them inside the projector's read transaction.
//
// # Applying batches
//
// A batch is split per document; each document's events are applied in
// memory (text through document.Text, runs through Run transforms) and
// its rows are written once per batch, not once per event. Docs and
// Search keep each document's text in their own tables (a projection may
// be rebuilt on its own), and the latest text or runs of recently changed
// documents in a bounded in-memory LRU cache (16 Mi code points of text,
// 2 Mi runs) of each projection instance (so one instance serves one
// read-model database), keyed by table and document and tagged with the version it
// reflects. The log is immutable, so a cached state is right whatever
// happened to the transaction that computed it; it is used only when its
// version is the one the batch starts at, otherwise the state is read
// from the tables, so a rolled-back or retried batch is harmless.
//
// # Idempotency and dead letters
//
// Each projection stores the version it holds per document and skips
// events below it, so applying a batch twice changes nothing. An event
// whose op does not decode or fit, or that leaves a gap (an earlier one
// was skipped as a dead letter), is returned as *projection.EventError;
// once a document has a dead letter, its later events are dead letters
// too in that projection, until it is rebuilt.
package readmodel
