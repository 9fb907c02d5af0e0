package soak

import (
	"context"
	"sync"
	"time"
)

// env is what every client of a run shares: the settings, and where
// findings, acknowledgements and kills are recorded.
type env struct {
	set    settings
	start  time.Time
	found  *findings
	ledger *ledger
	kills  *killLog
	faults faultTimes
}

func newEnv(set settings) *env {
	start := time.Now()
	return &env{set: set, start: start, found: newFindings(start), ledger: newLedger(), kills: newKillLog()}
}

// faultTimes records when each fault and its probes ran, so that the
// burst driver can tell a pause that a fault disturbed: a probe loads the
// document, and Redis down keeps a lease from being released.
type faultTimes struct {
	mu    sync.Mutex
	spans [][2]time.Time // start, end; a zero end: still running
}

// begin records a fault starting now and returns its index for end.
func (f *faultTimes) begin() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.spans = append(f.spans, [2]time.Time{time.Now()})
	return len(f.spans) - 1
}

// end records that fault i and its probes are over.
func (f *faultTimes) end(i int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.spans[i][1] = time.Now()
}

// overlaps reports whether a fault ran at some time between from and to.
func (f *faultTimes) overlaps(from, to time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.spans {
		if !s[0].After(to) && (s[1].IsZero() || !s[1].Before(from)) {
			return true
		}
	}
	return false
}

// sleepCtx sleeps d, or less if ctx ends first; it reports whether the
// whole d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
