// Package ratelimit holds per-key token buckets shared by all of a user's
// connections: Memory for one process, Redis for processes that share a
// Redis server.
//
// # Hot path
//
// The hub asks a limiter once per message a client sends (and once per
// inserted-text op), on the connection's reader goroutine, so a check
// must cost about what the per-connection rate.Limiter already costs.
// Memory is a sharded map of golang.org/x/time/rate limiters: one shard
// mutex, one map lookup and one AllowN. Measured on the 2-core test VM
// (under load from other work; bench_test.go): ≈ 200 ns a check, against
// ≈ 120 ns for the per-connection rate.Limiter, while one op through the
// hub costs ≈ 300 µs end to end (BenchmarkEndToEnd, 20 clients on one
// document): under 0.1 %.
//
// # Sharing through Redis without a round trip per message
//
// Redis does not sit on the hot path either. Each process reserves
// tokens from the shared bucket (a token bucket kept in a Redis hash and
// updated by one Lua script, so reservations from several processes are
// atomic; its key expires once the bucket would be full again, which is
// the same as absent) in chunks, and spends them locally; only when its
// local reservation runs dry does it ask Redis for the next chunk. With
// the default chunk of Rate/20 (at most Burst/8) a user sending the
// default 4,000 messages a second costs each process at most 20 Redis
// calls a second, and a user typing 10 ops a second costs one call every
// 20 s: amortised, well under a microsecond a message for a 0.3 ms round
// trip. The price is precision: tokens a process has reserved and not
// spent are unavailable to the others, at most one chunk per process per
// key, so a user spread over P processes may be refused up to P chunks
// early; never late, as every token spent was granted by Redis.
//
// # On a Redis Cluster
//
// The reserve script touches one key, Prefix + key, so it runs on one
// shard whatever the key is, and a user's buckets spread over the
// cluster with the hash of their names; no hash tag is needed. During a
// master's failover the keys of its slots fail like a Redis outage:
// allowed, with an error, for the backoff.
//
// # When Redis is down
//
// A call to Redis is bounded by a short timeout (default 50 ms). If it
// fails, the limiter answers allowed with an error (fail open), and skips
// Redis for a backoff (default 1 s) so that further messages pay nothing
// while it is down; the hub logs the error (sampled) and counts it. It
// fails open because these limits are a defence against abuse, while
// Redis being down must not stop every user editing: each connection
// remains bounded by its own per-connection limits, and each address by
// the socket cap, so the worst case during an outage is the per-process
// behaviour the server had before per-user limits.
package ratelimit
