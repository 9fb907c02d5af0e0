// Package revocation stores token revocations beyond one process's memory
// (hub.RevocationStore): File for one process, in its data directory, so
// a restart keeps them; Redis for processes that share documents, so one
// that starts later learns them. Each entry lasts until its Until, when
// the tokens it revokes have expired anyway.
//
// On a Redis Cluster every revocation key carries the hash tag
// {revoked} (collab:revoked:{revoked}:sub:<sub>), so the MULTI that
// stores one under both its subject and its token id touches one slot,
// and List scans one node, the master of that slot, instead of every
// master. Revocations are few (one per revoked user or token, for at most
// a token's lifetime, kilobytes in all), so one shard holds them easily.
// On one server the keys keep their names without the tag, so a rolling
// upgrade sees the revocations stored before it.
//
// Concurrency: both are safe for concurrent use.
package revocation
