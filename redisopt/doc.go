// Package redisopt holds the go-redis client options every Redis user in
// this project runs with: the fan-out bus (fanout.Redis), owner leases
// (lease.Redis), presence (presence.Redis), revocations and rate limits,
// all sharing one client built by cmd/server. Parse turns a redis:// URL
// into those options for one server, ParseCluster a redis+cluster:// URL
// for a Redis Cluster, and NewClient builds the right client
// (a redis.UniversalClient) from either.
//
// # Why not go-redis's defaults
//
// With the defaults (5 s dial, 5 s read, 3 retries) one operation takes
// ~20 s to fail while Redis is unreachable. With these options every
// operation fails within about two seconds, so a room notices an outage
// and falls back to the event log promptly, and an owner learns that it
// cannot renew its lease well before the lease (-lease-ttl, 5 s by
// default) runs out:
//
//   - DialTimeout 1 s and DialerRetries 2: a dead server costs ~1 s per
//     connection attempt (refused connections fail at once, ~100 ms
//     between the 2 tries).
//   - ReadTimeout and WriteTimeout 1 s: a PUBLISH or a lease script
//     answers in well under 1 ms on a healthy server.
//   - PoolTimeout 1 s: waiting longer for a pooled connection means the
//     pool is stuck behind a dead server.
//   - MaxRetries 1: one retry covers a stale pooled connection after a
//     Redis restart. Retrying a PUBLISH may deliver it twice; duplicates
//     are harmless since every event carries its version.
//   - ContextTimeoutEnabled: a caller's ctx deadline shortens all of the
//     above.
//
// The PubSub connection of a Redis bus ignores ReadTimeout while waiting
// for messages; go-redis pings it every 3 s instead.
//
// # A Redis Cluster
//
// A cluster URL lists seed nodes, redis+cluster://host:port,host:port
// (rediss+cluster:// for TLS, user:password@ before the first host,
// go-redis's cluster options as query parameters); the client learns the
// other nodes and the slot map from them. The cluster options get the
// same dial, I/O and pool timeouts, and:
//
//   - MaxRedirects 1 (go-redis: 3): a cluster client retries a command
//     on a network error or a MOVED redirect, instead of MaxRetries, which
//     go-redis leaves off for clusters. One redirect covers the MOVED
//     after a failover or a resharding; each more attempt against a hung
//     node would cost another 1 s read timeout, so 3 would let a call
//     take ~4 s, nearly a whole default lease.
//   - ClusterStateReloadInterval 1 s (go-redis: 60 s): a dead master
//     sends no MOVED, so go-redis learns that its replica took over only
//     by reloading the slot map. With 60 s its commands and its
//     subscriptions of the failed shard would keep going to the dead
//     address for up to a minute; with 1 s a shard heals about 1 s after
//     the cluster promoted the replica. A reload is one CLUSTER SLOTS, and
//     go-redis only reloads when the client is in use.
//
// ReadOnly (reads from replicas) stays off: a lease or a presence list
// read from a replica may be stale by the replication lag.
//
// The cluster itself decides how long a failover takes: its
// cluster-node-timeout (15 s by default) passes before the other masters
// declare a silent master failed, then its replica waits 0.5-1 s before
// standing for election. A shard's documents are unavailable for that
// long: ~16-17 s with the default, ~2-4 s with cluster-node-timeout 1000
// (redistest's setting; measured by hub's TestRedisClusterMasterKilled).
// Replication is asynchronous, so a failover may lose the last writes to
// the dead master, a lease renewal among them; as after a Redis restart,
// the event log's version check keeps a deposed owner from writing.
package redisopt
