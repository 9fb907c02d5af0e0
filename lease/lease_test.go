package lease

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/collabedit/collab/redisopt"
	"github.com/collabedit/collab/redistest"
	"github.com/redis/go-redis/v9"
)

// leases is hub.Leases, declared here because hub imports this package.
type leases interface {
	Acquire(ctx context.Context, doc, owner string) (holder string, err error)
	Release(ctx context.Context, doc, owner string) error
	TTL() time.Duration
}

var (
	_ leases = (*Memory)(nil)
	_ leases = (*Redis)(nil)
)

// ttl is short so expiry tests are quick, yet 300 ms leaves a wide margin
// over a Redis round trip (<1 ms, tens of ms under -race on a busy CI).
const ttl = 300 * time.Millisecond

func newClient(t *testing.T, srv *redistest.Server) *redis.Client {
	t.Helper()
	opt, err := redisopt.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

func newClusterClient(t *testing.T, c *redistest.Cluster) *redis.ClusterClient {
	t.Helper()
	opt, err := redisopt.ParseCluster(c.URL())
	if err != nil {
		t.Fatal(err)
	}
	cc := redis.NewClusterClient(opt)
	t.Cleanup(func() { cc.Close() })
	return cc
}

func TestMain(m *testing.M) {
	code := m.Run()
	redistest.StopSharedCluster()
	os.Exit(code)
}

// onCluster is a Redis on the shared cluster whose documents and
// processes are prefixed with the test's name, so that tests sharing the
// cluster do not share leases.
type onCluster struct {
	*Redis
	prefix string
}

func newOnCluster(t *testing.T, ttl time.Duration) onCluster {
	t.Helper()
	return onCluster{NewRedis(newClusterClient(t, redistest.SharedCluster(t)), ttl), t.Name() + "-"}
}

func (c onCluster) Acquire(ctx context.Context, doc, owner string) (string, error) {
	return c.Redis.Acquire(ctx, c.prefix+doc, owner)
}

func (c onCluster) Release(ctx context.Context, doc, owner string) error {
	return c.Redis.Release(ctx, c.prefix+doc, owner)
}

func (c onCluster) Advertise(ctx context.Context, process, url string, ttl time.Duration) error {
	return c.Redis.Advertise(ctx, c.prefix+process, url, ttl)
}

func (c onCluster) Locate(ctx context.Context, process string) (string, error) {
	return c.Redis.Locate(ctx, c.prefix+process)
}

var impls = []struct {
	name string
	make func(t *testing.T) leases
}{
	{"memory", func(t *testing.T) leases { return NewMemory(ttl) }},
	{"redis", func(t *testing.T) leases { return NewRedis(newClient(t, redistest.Start(t)), ttl) }},
	{"cluster", func(t *testing.T) leases { return newOnCluster(t, ttl) }},
}

func acquire(t *testing.T, l leases, doc, owner, want string) {
	t.Helper()
	got, err := l.Acquire(context.Background(), doc, owner)
	if err != nil {
		t.Fatalf("Acquire(%q, %q): %v", doc, owner, err)
	}
	if got != want {
		t.Fatalf("Acquire(%q, %q) = %q, want %q", doc, owner, got, want)
	}
}

func release(t *testing.T, l leases, doc, owner string) {
	t.Helper()
	if err := l.Release(context.Background(), doc, owner); err != nil {
		t.Fatalf("Release(%q, %q): %v", doc, owner, err)
	}
}

func TestAcquireRelease(t *testing.T) {
	t.Parallel()
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			l := impl.make(t)
			if l.TTL() != ttl {
				t.Fatalf("TTL() = %v", l.TTL())
			}
			acquire(t, l, "d1", "A", "A") // free: taken
			acquire(t, l, "d1", "A", "A") // own: extended
			acquire(t, l, "d1", "B", "A") // held by other
			acquire(t, l, "d2", "B", "B") // documents are independent

			release(t, l, "d1", "B") // not B's: no effect
			acquire(t, l, "d1", "B", "A")

			release(t, l, "d1", "A")
			acquire(t, l, "d1", "B", "B") // free again
			release(t, l, "nothing", "A") // releasing a free lease is fine

			if _, err := l.Acquire(context.Background(), "d1", ""); err == nil {
				t.Fatal("empty owner accepted")
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if _, err := l.Acquire(ctx, "d1", "A"); err == nil {
				t.Fatal("Acquire with a cancelled ctx succeeded")
			}
		})
	}
}

func TestExpiryAndRenewal(t *testing.T) {
	t.Parallel()
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			l := impl.make(t)
			// The sleeps below let the lease's time pass on purpose: they
			// are what the test is about, not waits for anything.
			acquire(t, l, "d", "A", "A")
			time.Sleep(ttl * 2 / 3)
			acquire(t, l, "d", "A", "A") // renew: expiry moves to now+ttl
			time.Sleep(ttl * 2 / 3)
			// 400 ms after the first Acquire, past its ttl: only the
			// renewal keeps A's lease.
			acquire(t, l, "d", "B", "A")
			time.Sleep(ttl + ttl/2)
			// No renewal for 450 ms: expired, B takes it.
			acquire(t, l, "d", "B", "B")
			// A's late release must not free B's lease.
			release(t, l, "d", "A")
			acquire(t, l, "d", "C", "B")
		})
	}
}

// Two processes' lease managers race for one document from many
// goroutines, each with its own owner id: exactly one wins, and everyone
// is told the same holder.
func TestRedisRaceSingleHolder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		managers func(t *testing.T) []leases
	}{
		{"redis", func(t *testing.T) []leases {
			srv := redistest.Start(t)
			return []leases{NewRedis(newClient(t, srv), time.Minute), NewRedis(newClient(t, srv), time.Minute)}
		}},
		{"cluster", func(t *testing.T) []leases {
			return []leases{newOnCluster(t, time.Minute), newOnCluster(t, time.Minute)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Long TTL so the winner cannot expire mid-test.
			raceSingleHolder(t, tc.managers(t))
		})
	}
}

func raceSingleHolder(t *testing.T, managers []leases) {
	t.Helper()
	for round := 0; round < 5; round++ {
		doc := fmt.Sprintf("doc-%d", round)
		const perManager = 25
		holders := make([]string, 2*perManager)
		owners := make([]string, 2*perManager)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range holders {
			owners[i] = fmt.Sprintf("proc-%d-%d", i%2, i)
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				h, err := managers[i%2].Acquire(context.Background(), doc, owners[i])
				if err != nil {
					t.Error(err)
				}
				holders[i] = h
			}()
		}
		close(start)
		wg.Wait()
		winners := 0
		for i, h := range holders {
			if h != holders[0] {
				t.Fatalf("%s: goroutine %d told holder %q, goroutine 0 told %q", doc, i, h, holders[0])
			}
			if h == owners[i] {
				winners++
			}
		}
		if winners != 1 {
			t.Fatalf("%s: %d goroutines hold the lease, want exactly 1", doc, winners)
		}
	}
}

func TestRedisKey(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	c := newClient(t, srv)
	l := NewRedis(c, ttl)
	acquire(t, l, "my-doc", "A", "A")
	got, err := c.Get(context.Background(), "collab:lease:my-doc").Result()
	if err != nil || got != "A" {
		t.Fatalf("key collab:lease:my-doc = %q, %v", got, err)
	}
	pttl, err := c.PTTL(context.Background(), "collab:lease:my-doc").Result()
	if err != nil || pttl <= 0 || pttl > ttl {
		t.Fatalf("PTTL = %v, %v; want in (0, %v]", pttl, err, ttl)
	}
}

// On a cluster the lease key has the document as hash tag, so it lives
// on the slot of the document's channel and presence keys.
func TestRedisClusterKey(t *testing.T) {
	t.Parallel()
	c := newClusterClient(t, redistest.SharedCluster(t))
	l := NewRedis(c, ttl)
	doc := "cluster-key-doc"
	acquire(t, l, doc, "A", "A")
	key := "collab:lease:{" + doc + "}"
	if got, err := c.Get(context.Background(), key).Result(); err != nil || got != "A" {
		t.Fatalf("key %s = %q, %v", key, got, err)
	}
	ctx := context.Background()
	want := c.ClusterKeySlot(ctx, key).Val()
	for _, other := range []string{"collab:doc:{" + doc + "}", "collab:presence:{" + doc + "}", "collab:presence-exp:{" + doc + "}"} {
		if got := c.ClusterKeySlot(ctx, other).Val(); got != want {
			t.Errorf("%s on slot %d, the lease on %d", other, got, want)
		}
	}
}

// After a Redis restart (which forgets loaded scripts and all leases)
// Acquire works again without intervention.
func TestRedisRestart(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	l := NewRedis(newClient(t, srv), ttl)
	acquire(t, l, "d", "A", "A")
	srv.Kill()
	start := time.Now()
	if _, err := l.Acquire(context.Background(), "d", "A"); err == nil {
		t.Fatal("Acquire succeeded while redis was down")
	}
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Fatalf("Acquire during outage took %v to fail", d)
	}
	srv.Restart()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h, err := l.Acquire(ctx, "d", "B")
	if err != nil {
		// A pooled connection to the dead server may fail once.
		h, err = l.Acquire(ctx, "d", "B")
	}
	if err != nil || h != "B" {
		t.Fatalf("Acquire after restart = %q, %v; want B (data lost)", h, err)
	}
}
