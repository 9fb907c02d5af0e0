package soak

import (
	"context"
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
}

func newEnv(set settings) *env {
	start := time.Now()
	return &env{set: set, start: start, found: newFindings(start), ledger: newLedger(), kills: newKillLog()}
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

// waitUntil polls cond every 20 ms until it holds or ctx ends, and
// reports whether it held.
func waitUntil(ctx context.Context, cond func() bool) bool {
	for !cond() {
		if !sleepCtx(ctx, 20*time.Millisecond) {
			return cond()
		}
	}
	return true
}
