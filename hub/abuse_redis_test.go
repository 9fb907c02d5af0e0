package hub_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/protocol"
	"github.com/collabedit/collab/ratelimit"
	"github.com/collabedit/collab/redistest"
)

// redisLimited starts two hubs (two processes) whose per-user limiters
// share one real Redis, each call to it bounded by timeout.
func redisLimited(t *testing.T, cfg hub.Config, timeout time.Duration) (*redistest.Server, *testServer, *testServer) {
	t.Helper()
	srv := redistest.Start(t)
	start := func() *testServer {
		rc := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1})
		t.Cleanup(func() { _ = rc.Close() })
		c := cfg
		c.UserLimiters = func(name string, l ratelimit.Limit) hub.UserLimiter {
			return ratelimit.NewRedis(rc, l, ratelimit.RedisConfig{Prefix: "collab:rl:" + name + ":", Timeout: timeout})
		}
		return startServer(t, c)
	}
	return srv, start(), start()
}

// TestUserLimitsSharedThroughRedis: a user's sockets on two processes
// share one message budget and one documents-created allowance.
func TestUserLimitsSharedThroughRedis(t *testing.T) {
	t.Parallel()
	// A generous timeout: a loaded test machine must not fail open here.
	_, a, b := redisLimited(t, tokens(hub.Config{UserRate: 0.001, UserRateBurst: 10, MaxDocsCreatedPerHour: 1}), 5*time.Second)
	tok := hs(t, claimsFor("ann", map[string]string{"*": "write"}))
	onA, onB := authed(t, a.URL, tok), authed(t, b.URL, tok)
	pa, _ := pings(onA, 4)
	pb, _ := pings(onB, 4)
	if pa != 4 || pb != 4 {
		t.Fatalf("within the budget: %d and %d pongs", pa, pb)
	}
	openWith(onA, "d1", "write") // the 9th message
	openWith(onB, "d2", "write") // the 10th
	onA.send(opFrame("d1", 0, "a:1", "x"))
	onA.expectError(protocol.CodeRateLimited) // refused before decoding, as the per-connection limit is
	if h := a.Head(t, "d1"); h != 0 {
		t.Fatalf("d1 at %d: the refused op was applied", h)
	}
	if n := a.Hub.Stats().LimiterFailures + b.Hub.Stats().LimiterFailures; n != 0 {
		t.Fatalf("%d limiter failures", n)
	}
	if n := a.Hub.Stats().UserRateLimited + b.Hub.Stats().UserRateLimited; n != 1 {
		t.Fatalf("UserRateLimited %d in all, want 1", n)
	}

	// Documents: one per hour for bob, wherever he creates it.
	bob := hs(t, claimsFor("bob", map[string]string{"*": "write"}))
	bobA, bobB := authed(t, a.URL, bob), authed(t, b.URL, bob)
	openWith(bobA, "b1", "write")
	openWith(bobB, "b2", "write")
	bobA.send(opFrame("b1", 0, "b:1", "x"))
	bobA.expect(protocol.TypeAck)
	bobB.send(opFrame("b2", 0, "b:2", "x"))
	bobB.expectError(protocol.CodeRateLimited)
	if n := b.Hub.Stats().DocsCreatedLimited; n != 1 {
		t.Fatalf("DocsCreatedLimited %d on the second process, want 1", n)
	}
}

// TestUserLimitsFailOpen: with Redis gone, messages are still served
// (each connection keeps its own limits) and the failures are counted.
func TestUserLimitsFailOpen(t *testing.T) {
	t.Parallel()
	srv, a, _ := redisLimited(t, hub.Config{UserRate: 0.001, UserRateBurst: 2, LimitLoopback: true}, 0)
	c := dial(t, a.URL)
	srv.Kill()
	if p, l := pings(c, 5); p != 5 || l != 0 {
		t.Fatalf("with Redis down: %d pongs, %d limited; want all served", p, l)
	}
	if n := a.Hub.Stats().LimiterFailures; n == 0 {
		t.Fatal("LimiterFailures not counted")
	}
}
