package poll

import (
	"context"
	"testing"
	"time"
)

// Timeout bounds Until. It is generous: conditions normally hold within
// milliseconds, but the race detector and a loaded two-core CI machine
// slow everything down, and a wait that times out fails the test.
const Timeout = 10 * time.Second

// The backoff between checks: it starts at minPause, so a condition that
// holds almost at once is seen almost at once, and doubles up to
// maxPause, so a slow one is not checked (and its checks do not load the
// machine) more often than every 20 ms.
const (
	minPause = time.Millisecond
	maxPause = 20 * time.Millisecond
)

// Until checks cond until it holds, and fails tb — "timed out after 10s
// waiting for <what>" — if it still does not after Timeout. Call it from
// the test's goroutine.
func Until(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	until(tb, what, cond, Timeout)
}

// until is Until with the timeout given, for this package's tests.
func until(tb testing.TB, what string, cond func() bool, timeout time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if !Wait(ctx, cond) {
		tb.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// Wait checks cond until it holds or ctx ends, and reports whether it
// held. cond is checked once more when ctx ends, so a condition that
// became true meanwhile is not reported as a timeout, and it is checked
// at least once even if ctx has already ended.
func Wait(ctx context.Context, cond func() bool) bool {
	pause := minPause
	t := time.NewTimer(pause)
	defer t.Stop()
	for !cond() {
		t.Reset(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			return cond()
		}
		pause = min(2*pause, maxPause)
	}
	return true
}
