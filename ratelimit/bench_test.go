package ratelimit

import (
	"context"
	"testing"

	"golang.org/x/time/rate"
)

// BenchmarkMemoryAllow is the per-message cost of a per-user check, next
// to the per-connection rate.Limiter it sits beside (BenchmarkConnLimiter).
func BenchmarkMemoryAllow(b *testing.B) {
	m := NewMemory(Limit{Rate: 1e12, Burst: 1 << 30})
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		key := "u:ann" // contended: one hot user on every connection
		for pb.Next() {
			_, _ = m.Allow(ctx, key, 1)
		}
	})
}

// BenchmarkConnLimiter is the per-connection check, for comparison.
func BenchmarkConnLimiter(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		l := rate.NewLimiter(1e12, 1<<30)
		for pb.Next() {
			l.Allow()
		}
	})
}
