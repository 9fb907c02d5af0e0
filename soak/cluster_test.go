package soak

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/collabedit/collab/redistest"
	"github.com/collabedit/collab/servertest"
)

// cluster is n server processes, p0…p(n-1), sharing one data directory
// and one Redis, each advertising its own URL so clients can be routed.
type cluster struct {
	dir   string
	redis *redistest.Server
	procs []*servertest.Server
	rdb   *redis.Client // reads leases, to pick victims and see unloads
}

func startCluster(t *testing.T, set settings, n int) *cluster {
	t.Helper()
	cl := &cluster{dir: t.TempDir(), redis: redistest.Start(t)}
	args := append([]string{"-redis-url", cl.redis.URL(), "-advertise-url", "auto"}, set.serverArgs...)
	cl.procs = servertest.StartCluster(t, n, cl.dir, args...)
	// Short timeouts: a read while Redis is paused must fail, not hang.
	cl.rdb = redis.NewClient(&redis.Options{Addr: cl.redis.Addr(), DialTimeout: time.Second,
		ReadTimeout: time.Second, WriteTimeout: time.Second, MaxRetries: -1})
	t.Cleanup(func() { _ = cl.rdb.Close() })
	return cl
}

// urls returns the processes' URLs with process first.
func (cl *cluster) urls(first int) []string {
	out := make([]string, 0, len(cl.procs))
	for i := range cl.procs {
		out = append(out, cl.procs[(first+i)%len(cl.procs)].URL())
	}
	return out
}

// leaseHolder returns the process id holding doc's lease, "" for none.
// The key is the lease package's ("collab:lease:" + doc).
func (cl *cluster) leaseHolder(ctx context.Context, doc string) (string, error) {
	h, err := cl.rdb.Get(ctx, "collab:lease:"+doc).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the lease of %s: %w", doc, err)
	}
	return h, nil
}

// victim picks the process to kill: the owner of a random document, so
// that the kill forces a takeover; a random process if none is known.
func (cl *cluster) victim(ctx context.Context, rng *rand.Rand, docs []string) *servertest.Server {
	holder, _ := cl.leaseHolder(ctx, docs[rng.IntN(len(docs))])
	for _, p := range cl.procs {
		if p.Name() == holder {
			return p
		}
	}
	return cl.procs[rng.IntN(len(cl.procs))]
}
