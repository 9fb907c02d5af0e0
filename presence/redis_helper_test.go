package presence_test

import (
	"os"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/collabedit/collab/redisopt"
	"github.com/collabedit/collab/redistest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	redistest.StopSharedCluster()
	os.Exit(code)
}

// newClusterClient returns a client of the test binary's shared cluster,
// closed at the end of t.
func newClusterClient(t *testing.T) *redis.ClusterClient {
	t.Helper()
	opt, err := redisopt.ParseCluster(redistest.SharedCluster(t).URL())
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClusterClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// startRedis runs a throwaway redis-server (redistest) for the duration
// of t and returns its address.
func startRedis(t *testing.T) string {
	t.Helper()
	return redistest.Start(t).Addr()
}

// newRedisClient returns a client of addr closed at the end of t.
func newRedisClient(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	return c
}
