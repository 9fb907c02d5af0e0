package main

import (
	"flag"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/collabedit/collab/clientaddr"
	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/ratelimit"
)

// addLimitFlags adds the abuse limits' flags (issue 12, item 9), each
// defaulting to hub.DefaultConfig's value.
func addLimitFlags(fs *flag.FlagSet, h *hub.Config, d hub.Config) {
	fs.IntVar(&h.MaxConnsPerAddr, "max-conns-per-addr", d.MaxConnsPerAddr, "sockets one client address (IPv4, or IPv6 /64) may hold open; more are answered HTTP 429; negative: no limit")
	fs.BoolVar(&h.LimitLoopback, "limit-loopback", false, "apply the per-address limits to clients on this host too (by default they are exempt: tests, load tools, a reverse proxy on the same host; list such a proxy in -trusted-proxies)")
	fs.Func("trusted-proxies", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client address (for -max-conns-per-addr, the logs and the auth webhook); empty: the header is ignored", func(s string) error {
		p, err := clientaddr.ParsePrefixes(s)
		if err != nil {
			return fmt.Errorf("-trusted-proxies: %w", err)
		}
		h.TrustedProxies = p
		return nil
	})
	fs.Float64Var(&h.UserRate, "user-rate", d.UserRate, "messages per second allowed per user across all its connections (anonymous: per client address); shared through -redis-url")
	fs.IntVar(&h.UserRateBurst, "user-rate-burst", d.UserRateBurst, "burst of messages allowed per user above -user-rate")
	fs.Float64Var(&h.UserInsertRate, "user-insert-rate", d.UserInsertRate, "bytes of inserted text per second allowed per user across all its connections")
	fs.IntVar(&h.UserInsertBurst, "user-insert-burst", d.UserInsertBurst, "burst of inserted bytes allowed per user above -user-insert-rate (at least -max-message-bytes)")
	fs.IntVar(&h.MaxDocsCreatedPerHour, "max-docs-created-per-hour", d.MaxDocsCreatedPerHour, "documents one user may create per -docs-created-window (rate_limited above it)")
	fs.DurationVar(&h.DocsCreatedWindow, "docs-created-window", d.DocsCreatedWindow, "the window of -max-docs-created-per-hour")
}

// redisLimiters shares the per-user limits of every process through
// client (ratelimit.Redis: tokens reserved in chunks, spent locally).
func redisLimiters(client redis.UniversalClient) func(string, ratelimit.Limit) hub.UserLimiter {
	return func(name string, l ratelimit.Limit) hub.UserLimiter {
		return ratelimit.NewRedis(client, l, ratelimit.RedisConfig{Prefix: "collab:rl:" + name + ":"})
	}
}
