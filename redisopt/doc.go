// Package redisopt holds the go-redis client options every Redis user in
// this project runs with: the fan-out bus (fanout.Redis), owner leases
// (lease.Redis) and presence (presence.Redis), all sharing one client built
// by cmd/server. Parse turns a redis:// URL into those options.
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
package redisopt
