package redisopt

import (
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Parse parses a redis:// URL (as redis.ParseURL does) and sets the
// timeouts and retries described in the package documentation, so that
// every operation of a client built from the result fails within about
// 2 s while Redis is unreachable.
func Parse(url string) (*redis.Options, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redisopt: parse redis url: %w", err)
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
