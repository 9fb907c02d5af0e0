package presence_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/collabedit/collab/redistest"
)

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
