// Package revocation stores token revocations beyond one process's memory
// (hub.RevocationStore): File for one process, in its data directory, so
// a restart keeps them; Redis for processes that share documents, so one
// that starts later learns them. Each entry lasts until its Until, when
// the tokens it revokes have expired anyway.
//
// Concurrency: both are safe for concurrent use.
package revocation
