package ratelimit

import (
	"context"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/collabedit/collab/redisopt"
	"github.com/collabedit/collab/redistest"
)

func TestMemoryBucketPerKey(t *testing.T) {
	t.Parallel()
	m := NewMemory(Limit{Rate: 10, Burst: 5})
	now := time.Now()
	for i := range 5 {
		if !m.AllowAt(now, "ann", 1) {
			t.Fatalf("message %d refused within the burst", i)
		}
	}
	if m.AllowAt(now, "ann", 1) {
		t.Fatal("over the burst allowed")
	}
	if !m.AllowAt(now, "bob", 5) {
		t.Fatal("another key shares ann's bucket")
	}
	if !m.AllowAt(now.Add(100*time.Millisecond), "ann", 1) {
		t.Fatal("not refilled at 10/s")
	}
	if m.AllowAt(now, "bob", 6) {
		t.Fatal("more than the burst at once allowed")
	}
}

// TestMemoryForgetsIdleKeys: memory stays bounded by the keys active
// within a refill time.
func TestMemoryForgetsIdleKeys(t *testing.T) {
	t.Parallel()
	m := NewMemory(Limit{Rate: 100, Burst: 10}) // full again after 100 ms
	now := time.Now()
	for i := range 1000 {
		m.AllowAt(now, "k"+strconv.Itoa(i), 1)
	}
	if m.Len() != 1000 {
		t.Fatalf("%d keys", m.Len())
	}
	later := now.Add(time.Second)
	for i := range 1000 {
		m.AllowAt(later, "other"+strconv.Itoa(i%10), 1)
	}
	if n := m.Len(); n > 10 {
		t.Fatalf("%d keys held after every old one went idle, want the 10 active", n)
	}
}

func newClient(t *testing.T) (*redistest.Server, *redis.Client) {
	srv := redistest.Start(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	return srv, c
}

func TestMain(m *testing.M) {
	code := m.Run()
	redistest.StopSharedCluster()
	os.Exit(code)
}

// clients are the Redis deployments the shared-bucket tests run on, each
// with a key prefix of the test's own: the shared cluster serves several
// tests. One key per script, so any prefix works on a cluster.
var clients = []struct {
	name string
	make func(t *testing.T) (redis.UniversalClient, string)
}{
	{"redis", func(t *testing.T) (redis.UniversalClient, string) {
		_, c := newClient(t)
		return c, "t:"
	}},
	{"cluster", func(t *testing.T) (redis.UniversalClient, string) {
		opt, err := redisopt.ParseCluster(redistest.SharedCluster(t).URL())
		if err != nil {
			t.Fatal(err)
		}
		c := redis.NewClusterClient(opt)
		t.Cleanup(func() { _ = c.Close() })
		return c, t.Name() + ":"
	}},
}

// TestRedisSharedBudget: two limiters on one Redis (two processes) share
// one bucket per key: together they get the burst, no more.
func TestRedisSharedBudget(t *testing.T) {
	t.Parallel()
	for _, tc := range clients {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, prefix := tc.make(t)
			sharedBudget(t, c, prefix)
		})
	}
}

func sharedBudget(t *testing.T, c redis.UniversalClient, prefix string) {
	t.Helper()
	lim := Limit{Rate: 0.001, Burst: 40}
	a := NewRedis(c, lim, RedisConfig{Prefix: prefix, Chunk: 4, Timeout: 5 * time.Second})
	b := NewRedis(c, lim, RedisConfig{Prefix: prefix, Chunk: 4, Timeout: 5 * time.Second})
	ctx := context.Background()
	allowed := 0
	for i := range 60 {
		l := a
		if i%2 == 1 {
			l = b
		}
		ok, err := l.Allow(ctx, "ann", 1)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			allowed++
		}
	}
	if allowed != 40 {
		t.Fatalf("%d allowed across both processes, want the burst of 40", allowed)
	}
	if ok, _ := a.Allow(ctx, "bob", 1); !ok {
		t.Fatal("another key refused")
	}
	ttl, err := c.PTTL(ctx, prefix+"ann").Result()
	if err != nil || ttl <= 0 {
		t.Fatalf("bucket key has no expiry: %v %v", ttl, err)
	}
}

// TestRedisRefill: the shared bucket refills at its rate.
func TestRedisRefill(t *testing.T) {
	t.Parallel()
	for _, tc := range clients {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, prefix := tc.make(t)
			refill(t, c, prefix)
		})
	}
}

func refill(t *testing.T, c redis.UniversalClient, prefix string) {
	t.Helper()
	// A token every 500 ms: the three calls before the sleep take round
	// trips of tens of ms each under -race on a busy machine, and must
	// all land before the first token comes back.
	l := NewRedis(c, Limit{Rate: 2, Burst: 2}, RedisConfig{Prefix: prefix + "r:", Timeout: 5 * time.Second})
	ctx := context.Background()
	for range 2 {
		if ok, err := l.Allow(ctx, "k", 1); !ok || err != nil {
			t.Fatalf("burst refused: %v", err)
		}
	}
	if ok, _ := l.Allow(ctx, "k", 1); ok {
		t.Fatal("over the burst allowed")
	}
	time.Sleep(600 * time.Millisecond)
	if ok, _ := l.Allow(ctx, "k", 1); !ok {
		t.Fatal("not refilled")
	}
}

// TestRedisFailsOpen: with Redis gone a check is allowed with an error,
// fast, and Redis is skipped for the backoff.
func TestRedisFailsOpen(t *testing.T) {
	t.Parallel()
	srv, c := newClient(t)
	l := NewRedis(c, Limit{Rate: 1, Burst: 1}, RedisConfig{Prefix: "f:", Timeout: 100 * time.Millisecond, Backoff: time.Hour})
	srv.Pause() // hangs rather than refusing: the timeout is what bounds it
	defer srv.Resume()
	start := time.Now()
	ok, err := l.Allow(context.Background(), "k", 1)
	if !ok || err == nil {
		t.Fatalf("allowed %v, err %v; want allowed with an error", ok, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("a check took %v with Redis hung", d)
	}
	start = time.Now()
	for range 100 {
		if ok, err := l.Allow(context.Background(), "k", 1); !ok || !errors.Is(err, ErrUnavailable) {
			t.Fatalf("during backoff: %v %v", ok, err)
		}
	}
	// Asking Redis would cost 100 × the 100 ms timeout; skipping it, well
	// under a second however busy the machine.
	if d := time.Since(start); d > time.Second {
		t.Fatalf("100 checks during the backoff took %v: Redis was not skipped", d)
	}
}
