package fanout

import (
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// ClientOptions parses a redis:// URL into the client options this
// package (and lease) are meant to run with: every operation fails within
// about two seconds while Redis is unreachable, instead of go-redis's
// defaults (5 s dial, 5 s read, 3 retries: ~20 s), so a room notices an
// outage and falls back to the log promptly.
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
func ClientOptions(url string) (*redis.Options, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("fanout: parse redis url: %w", err)
	}
	opt.DialTimeout = time.Second
	opt.DialerRetries = 2
	opt.ReadTimeout = time.Second
	opt.WriteTimeout = time.Second
	opt.PoolTimeout = time.Second
	opt.MaxRetries = 1
	opt.ContextTimeoutEnabled = true
	return opt, nil
}
