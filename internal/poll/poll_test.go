package poll

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// fakeTB records a Fatalf and, like testing's, stops the calling
// goroutine. Any other method of testing.TB panics (nil embedded
// interface), so an unexpected call shows.
type fakeTB struct {
	testing.TB
	failed string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls fn with a fakeTB on its own goroutine, as testing runs a test.
func run(fn func(tb testing.TB)) *fakeTB {
	f := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

func TestUntilReturnsOnceTheConditionHolds(t *testing.T) {
	t.Parallel()
	var flag atomic.Bool
	go func() {
		time.Sleep(30 * time.Millisecond) // the other goroutine's work, which Until waits for
		flag.Store(true)
	}()
	start := time.Now()
	f := run(func(tb testing.TB) { Until(tb, "the flag", flag.Load) })
	if f.failed != "" {
		t.Fatalf("Until failed: %s", f.failed)
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
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var checks int // no lock: cond runs on this goroutine
	start := time.Now()
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
	f := run(func(tb testing.TB) { until(tb, "the impossible", func() bool { return false }, 50*time.Millisecond) })
	if f.failed != "timed out after 50ms waiting for the impossible" {
		t.Fatalf("failure %q, want it to name the timeout and what was awaited", f.failed)
	}
}
