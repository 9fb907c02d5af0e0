// Package lease implements hub.Leases, which decides the one process that
// sequences each document: Memory within one process, Redis across
// processes sharing a Redis server.
//
// A lease is a key holding its owner's id with a time to live. Acquire
// takes a free lease or extends the caller's own, atomically, and reports
// who holds it; Release gives it up only if the caller holds it. An owner
// must renew well within TTL (the hub renews at a fraction of it): a
// process that dies, or loses Redis, stops renewing and is replaced within
// one TTL.
//
// Both types also implement hub.Directory: each process advertises the
// URL its clients can reach it at, under "collab:addr:" + process id with
// a TTL, so a process that is not a document's owner can send a client to
// the one that is.
//
// # Concurrency
//
// Both types are safe for concurrent use and start no goroutines. Memory
// guards its map with a mutex. Redis makes each Acquire and Release one
// Lua script, which Redis runs atomically, so concurrent callers in any
// number of processes see a single holder.
package lease
