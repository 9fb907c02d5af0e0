package poll

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collabedit/collab/internal/faketb"
)

func TestUntilReturnsOnceTheConditionHolds(t *testing.T) {
	t.Parallel()
	var flag atomic.Bool
	go func() {
		time.Sleep(30 * time.Millisecond) // the other goroutine's work, which Until waits for
		flag.Store(true)
	}()
	start := time.Now()
	f := faketb.Run(func(tb testing.TB) { Until(tb, "the flag", flag.Load) })
	if f.Failure != "" {
		t.Fatalf("Until failed: %s", f.Failure)
	}
	if !flag.Load() {
		t.Fatal("Until returned before the condition held")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Until took %v for a condition that held after 30ms", took)
	}
}

func TestWaitChecksOnTheCallersGoroutineWithBackoff(t *testing.T) {
	t.Parallel()
	start := time.Now() // before the deadline is set, which counts from its own clock read
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var checks int // no lock: cond runs on this goroutine
	if Wait(ctx, func() bool { checks++; return false }) {
		t.Fatal("Wait reported a condition that never held")
	}
	took := time.Since(start)
	if took < 300*time.Millisecond || took > 2*time.Second {
		t.Fatalf("Wait returned after %v with a 300ms context", took)
	}
	// 1+2+4+8+16 ms, then every 20 ms: about 20 checks in 300 ms. Fewer
	// than 5 means no backoff start; more than 100, no backoff at all.
	if checks < 5 || checks > 100 {
		t.Fatalf("%d checks in %v", checks, took)
	}
}

func TestWaitChecksOnceMoreAtTheEnd(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if !Wait(ctx, func() bool { return true }) {
		t.Fatal("Wait with an ended context did not check the condition")
	}
	var n int
	if Wait(ctx, func() bool { n++; return n > 1 }) != true {
		t.Fatal("a condition that held at the last check was reported as a timeout")
	}
}

func TestUntilFailsNamingWhatItWaitedFor(t *testing.T) {
	t.Parallel()
	f := faketb.Run(func(tb testing.TB) { until(tb, "the impossible", func() bool { return false }, 50*time.Millisecond) })
	if f.Failure != "timed out after 50ms waiting for the impossible" {
		t.Fatalf("failure %q, want it to name the timeout and what was awaited", f.Failure)
	}
}
