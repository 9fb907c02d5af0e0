package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Limit is a token bucket: Rate tokens a second, at most Burst saved. A
// request for more than Burst tokens is always refused.
type Limit struct {
	Rate  float64
	Burst int
}

// fill is how long an empty bucket takes to fill. A bucket idle for that
// long is full, the same as one never used, so it can be forgotten.
func (l Limit) fill() time.Duration {
	if l.Rate <= 0 {
		return time.Hour
	}
	return time.Duration(float64(l.Burst) / l.Rate * float64(time.Second))
}

const shards = 32

// sweepEvery bounds how often a shard looks for idle buckets to forget.
const sweepEvery = time.Minute

var seed = maphash.MakeSeed()

// Memory keeps one token bucket per key in this process. Buckets idle
// long enough to be full again are forgotten, so memory grows with the
// keys active within the last Burst/Rate (and at most a minute more), not
// with every key ever seen. It is safe for concurrent use.
type Memory struct {
	limit  Limit
	swept  atomic.Int64 // unix nanoseconds of the last sweep of every shard
	shards [shards]memShard
}

type memShard struct {
	mu sync.Mutex
	m  map[string]*memBucket
}

type memBucket struct {
	lim  *rate.Limiter
	last time.Time
}

// NewMemory returns an in-process limiter with limit for every key.
func NewMemory(limit Limit) *Memory {
	m := &Memory{limit: limit}
	for i := range m.shards {
		m.shards[i].m = make(map[string]*memBucket)
	}
	return m
}

// Allow takes n tokens from key's bucket if it holds them. It never
// fails; the error is for the interface.
func (m *Memory) Allow(_ context.Context, key string, n int) (bool, error) {
	return m.AllowAt(time.Now(), key, n), nil
}

// AllowAt is Allow at the given time.
func (m *Memory) AllowAt(now time.Time, key string, n int) bool {
	m.sweep(now)
	s := &m.shards[maphash.String(seed, key)%shards]
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.m[key]
	if b == nil {
		b = &memBucket{lim: rate.NewLimiter(rate.Limit(m.limit.Rate), m.limit.Burst)}
		s.m[key] = b
	}
	b.last = now
	return b.lim.AllowN(now, n)
}

// Len returns the number of keys held, for tests and diagnostics.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}

// sweep forgets the buckets of every shard idle for long enough to be
// full, at most once a sweepEvery (or once a fill time, if shorter): the
// caller that finds a sweep due does it, the others skip it.
func (m *Memory) sweep(now time.Time) {
	idle := m.limit.fill()
	last := m.swept.Load()
	if now.UnixNano()-last < int64(min(idle, sweepEvery)) || !m.swept.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		for k, b := range s.m {
			if now.Sub(b.last) > idle {
				delete(s.m, k)
			}
		}
		s.mu.Unlock()
	}
}
