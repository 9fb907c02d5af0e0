// Package logtest is the conformance suite of event stores: Run checks
// that an eventlog.Log keeps every promise of the contract (package
// eventlog's documentation) — round trips, conflicts and duplicates, the
// prev check and no gaps even from a stale writer, group commit answering
// in call order, exactly one winner per version between two Stores on one
// database (stand-ins for two processes), seq order equal to commit order
// as seen by a reader following Since concurrently, snapshots, the
// document list, lifecycle events, Close semantics and the upcast of
// legacy rows. The SQLite store (eventlog) and the PostgreSQL store
// (eventlog/postgres) both run it from their own tests; what only one of
// them can do (a file lock, a full disk, a restarted server) is tested
// beside it.
//
// Subtests run in parallel, each on a fresh database from Impl.NewDB, and
// every Log opened through Impl.Open is closed in the test's Cleanup.
package logtest
