package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrUnavailable is returned, with allowed = true, while Redis is being
// skipped after a failure (see RedisConfig.Backoff).
var ErrUnavailable = errors.New("rate limit store unavailable")

// reserveScript takes up to want tokens (at least need, or none) from the
// bucket in KEYS[1]: a hash {tokens, at}, refilled at ARGV[1] tokens a
// second up to ARGV[2], on Redis's own clock so processes' clocks do not
// matter. The key expires once the bucket would be full, which is the
// same as absent (at most a week, for a rate near zero). It returns the
// tokens granted.
var reserveScript = redis.NewScript(`
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local need, want = tonumber(ARGV[3]), tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
if now > at then tokens = math.min(burst, tokens + (now - at) * rate) end
local grant = 0
if tokens >= need then
  grant = math.min(want, math.floor(tokens))
  tokens = tokens - grant
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.min(math.ceil((burst - tokens) / rate * 1000) + 1000, 604800000))
return grant
`)

// RedisConfig tunes a Redis limiter; zero fields take the defaults
// documented on them.
type RedisConfig struct {
	// Prefix starts every key ("collab:rl:msg:"), so limits do not share
	// buckets. Required.
	Prefix string
	// Chunk is how many tokens a process reserves from Redis at a time.
	// Default Rate/20, at most Burst/8, at least 1 (see the package doc).
	Chunk int
	// Timeout bounds one call to Redis. Default 50ms.
	Timeout time.Duration
	// Backoff is how long Redis is skipped (every check allowed, with
	// ErrUnavailable) after a failed call. Default 1s.
	Backoff time.Duration
}

// Redis is a token bucket per key shared by every process using the same
// Redis and Prefix, spent locally in reserved chunks. It is safe for
// concurrent use.
type Redis struct {
	client redis.UniversalClient
	limit  Limit
	cfg    RedisConfig
	down   atomic.Int64 // unix nanoseconds until which Redis is skipped
	swept  atomic.Int64 // unix nanoseconds of the last sweep
	shards [shards]resShard
}

type resShard struct {
	mu sync.Mutex
	m  map[string]*reservation
}

// reservation is tokens granted by Redis and not spent yet.
type reservation struct {
	tokens int
	last   time.Time
}

// NewRedis returns a limiter sharing limit's buckets through client.
func NewRedis(client redis.UniversalClient, limit Limit, cfg RedisConfig) *Redis {
	if cfg.Chunk <= 0 {
		cfg.Chunk = max(1, min(int(limit.Rate/20), limit.Burst/8))
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 50 * time.Millisecond
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	r := &Redis{client: client, limit: limit, cfg: cfg}
	for i := range r.shards {
		r.shards[i].m = make(map[string]*reservation)
	}
	return r
}

// Allow spends n tokens of key: from this process's reservation when it
// holds them (no I/O), else from Redis, reserving a chunk more. When
// Redis fails or is being skipped, it returns true and the error.
func (r *Redis) Allow(ctx context.Context, key string, n int) (bool, error) {
	if n > r.limit.Burst {
		return false, nil
	}
	now := time.Now()
	r.sweep(now)
	s := &r.shards[maphash.String(seed, key)%shards]
	s.mu.Lock()
	res := s.m[key]
	if res == nil {
		res = &reservation{}
		s.m[key] = res
	}
	res.last = now
	if res.tokens >= n {
		res.tokens -= n
		s.mu.Unlock()
		return true, nil
	}
	need := n - res.tokens
	s.mu.Unlock()
	if now.UnixNano() < r.down.Load() {
		return true, ErrUnavailable
	}
	got, err := r.reserve(ctx, key, need, max(need, r.cfg.Chunk))
	if err != nil {
		r.down.Store(now.Add(r.cfg.Backoff).UnixNano())
		return true, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	res.tokens += got
	if res.tokens < n {
		return false, nil
	}
	res.tokens -= n
	return true, nil
}

// reserve asks Redis for tokens, waiting at most Timeout. The call runs
// on a goroutine of its own: go-redis honours a context's deadline only
// with ContextTimeoutEnabled, else it waits its ReadTimeout (3 s by
// default), far too long for a reader; a late answer is discarded (its
// tokens lost, erring on the side of refusing).
func (r *Redis) reserve(ctx context.Context, key string, need, want int) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	rate := r.limit.Rate
	if rate <= 0 {
		rate = math.SmallestNonzeroFloat32
	}
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer cancel()
		n, err := reserveScript.Run(ctx, r.client, []string{r.cfg.Prefix + key}, rate, r.limit.Burst, need, want).Int()
		done <- result{n, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		// The goroutine cancels ctx once it has answered: take the
		// answer if it is there, rather than a cancellation of our own.
		select {
		case res = <-done:
		default:
			return 0, fmt.Errorf("rate limit %s: %w", r.cfg.Prefix, ctx.Err())
		}
	}
	if res.err != nil {
		return 0, fmt.Errorf("rate limit %s: %w", r.cfg.Prefix, res.err)
	}
	return res.n, nil
}

// sweep forgets reservations idle for long enough that the bucket would
// be full (their unspent tokens are lost, which only errs on the side of
// refusing), as Memory.sweep does.
func (r *Redis) sweep(now time.Time) {
	idle := r.limit.fill()
	last := r.swept.Load()
	if now.UnixNano()-last < int64(min(idle, sweepEvery)) || !r.swept.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		for k, res := range s.m {
			if now.Sub(res.last) > idle {
				delete(s.m, k)
			}
		}
		s.mu.Unlock()
	}
}
