// Package lease implements hub.Leases, which decides the one process that
// sequences each document: Memory within one process, Redis across
// processes sharing a Redis server or a Redis Cluster.
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
// # On a Redis Cluster
//
// A lease key is "collab:lease:{" + doc + "}" on a cluster: the hash tag
// puts it on the slot of the document's channel and presence keys, so a
// master's death makes a document unavailable whole, for the ~2-4 s
// failover (cluster-node-timeout 1 s; ~16 s with Redis's default 15 s),
// rather than making 3 shards each able to stall it. On one server the
// key stays "collab:lease:" + doc, its name before clusters were
// supported, so old and new processes agree on owners during a rolling
// upgrade. Each script touches that one key.
//
// Replication to the replica is asynchronous: a renewal acknowledged by a
// master that dies a moment later may be missing on the promoted
// replica, where the lease then lapses up to one renewal early. The
// owner learns it at its next renewal; the event log's version check
// keeps it from writing once another process has taken over, as after a
// Redis restart. A failover longer than the TTL (-lease-ttl, 5 s by
// default) costs the owner its leases on that shard: it stops sequencing
// a tenth of the TTL before they end and takes them again once the shard
// answers.
//
// # Concurrency
//
// Both types are safe for concurrent use and start no goroutines. Memory
// guards its map with a mutex. Redis makes each Acquire and Release one
// Lua script, which Redis runs atomically, so concurrent callers in any
// number of processes see a single holder.
package lease
