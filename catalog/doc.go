// Package catalog is the document list: a read model of which documents
// exist, when each last changed, how long it is and at which version,
// served as JSON at GET /api/docs for the browser's start page.
//
// It owns no state. Every request reads the event log's docs table (kept
// by a trigger in the same transaction as each event, see eventlog), so the
// list is as fresh as the last commit and costs one index scan of at most
// Limit rows; nothing is cached and nothing needs invalidating. Reads go
// through the store's read pool, which in WAL mode never waits for the
// writer, so a busy document does not slow the list down and the list does
// not slow down editing.
//
// A Catalog is safe for concurrent use by any number of goroutines.
package catalog
