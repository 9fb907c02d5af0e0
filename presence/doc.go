// Package presence stores who is in each document: one protocol.Peer per
// editing session, with its display name, colour and selection (and the
// document version that selection refers to), each entry expiring unless
// refreshed. It holds the stores only; the Peer and Selection values are
// part of the wire format and live in package protocol, so a client of the
// protocol links no Redis client.
//
// # Role
//
// Presence is ephemeral. It is never written to the event log and is not
// part of a document's history: losing it costs nothing but a flicker of
// remote cursors. Every entry is stored with a time to live and vanishes
// unless refreshed, so the peers of a process that died disappear by
// themselves within one TTL. The hub refreshes its local peers every TTL/3
// and removes a peer as soon as its client leaves or disconnects.
//
// Two stores implement the hub's Presence interface:
//
//   - Memory, for a single process: mutex-protected maps with an expiry
//     timestamp per entry (monotonic clock).
//   - Redis, for several processes sharing one Redis server or a Redis
//     Cluster.
//
// # Why two Redis keys per document
//
// Redis 7.0 has no per-field hash expiry (HEXPIRE needs 7.4), and one key
// per peer would need SCAN or KEYS to list a document. Each document
// therefore uses two keys:
//
//	collab:presence:{doc}      hash:       session -> JSON Peer
//	collab:presence-exp:{doc}  sorted set: session -> expiry (unix ms)
//
// The sorted set gives each field its own expiry and lets List drop all
// expired sessions with one ZRANGEBYSCORE. Both keys also carry a key TTL
// equal to their latest peer expiry, so an abandoned document's keys
// vanish even if nobody lists it again. The braces are a Redis Cluster
// hash tag: both keys of a document live in the same slot, which the Lua
// scripts and the MULTI of Remove need on a cluster, and it is the slot
// of the document's lease and channel there too (lease, hub). The names
// are the same on one server and on a cluster.
//
// Put and List are Lua scripts, so each is atomic and one round trip.
// Expiry times are computed from the Redis server's clock (TIME inside the
// scripts), never from the calling process's clock: all processes then
// agree on what has expired even if their hosts' clocks differ. On one
// host the skew is ~0 anyway, but with the server clock correctness does
// not depend on it.
//
// # Elsewhere
//
// The hub coalesces a session's updates to one per 50 ms before they reach
// a store or the bus, and protocol.Selection.Transform keeps a selection
// pointing at the same text when a document operation is applied; neither
// is about storing, so neither lives here.
//
// # Concurrency
//
// Memory and Redis are safe for concurrent use by multiple goroutines.
// Build the Redis store's client with redisopt (Parse, ParseCluster or
// NewClient) so a call fails within ~2 s while Redis is unreachable.
package presence
