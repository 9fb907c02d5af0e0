// Package catalog is the document list: a read model of which documents
// exist, when each last changed, how long it is, at which version and
// under which title, served as JSON at GET /api/docs for the browser's
// start page.
//
// Every request reads the event log's docs table (kept by a trigger in
// the same transaction as each event, see eventlog), so the list is as
// fresh as the last commit and costs one index scan of at most Limit rows.
// Reads go through the store's read pool, which in WAL mode never waits
// for the writer, so a busy document does not slow the list down and the
// list does not slow down editing.
//
// The title (Title: the first line, without Markdown's heading markers,
// by the same rules as the browser's static/title.js) is not in the docs
// table: the log keeps no document's text, only its snapshots and events.
// The catalog rebuilds a document's text from its latest snapshot and the
// events after it (fewer than hub.Config.SnapshotEvery) when the document's
// version has changed since it last did, and keeps only the title, by
// document and version, in memory. One request spends at most titleBudget
// on that; titles it had no time for come with a later request.
//
// A Catalog is safe for concurrent use by any number of goroutines.
package catalog
