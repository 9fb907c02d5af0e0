package loadgen

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Paces of a replay.
const (
	PaceFull = "full" // every patch as soon as the engine can send it
	PaceReal = "real" // the trace's own transaction times
)

// pacer decides when each patch of a replay is sent.
type pacer struct {
	rate    float64         // > 0: patches per second
	offsets []time.Duration // per patch, since the start; nil: full speed
}

// newPacer parses pace: "full", "real" or "<n>/s". Real time needs the
// trace file's transaction times; pauses longer than maxGap are cut to it
// and all are divided by speed.
func newPacer(pace string, times []time.Time, maxGap time.Duration, speed float64) (*pacer, error) {
	switch {
	case pace == "" || pace == PaceFull:
		return &pacer{}, nil
	case pace == PaceReal:
		return &pacer{offsets: patchOffsets(times, maxGap, speed)}, nil
	case strings.HasSuffix(pace, "/s"):
		rate, err := strconv.ParseFloat(strings.TrimSuffix(pace, "/s"), 64)
		if err != nil || rate <= 0 {
			return nil, fmt.Errorf("pace %q: want a positive rate like 50/s", pace)
		}
		return &pacer{rate: rate}, nil
	}
	return nil, fmt.Errorf("pace %q: want %s, %s or <n>/s", pace, PaceFull, PaceReal)
}

// wait blocks until patch k is due (the run started at start) and
// reports false if ctx ended first. Waits under a millisecond are
// skipped: the timer cannot do better, and a burst keeps the pace.
func (p *pacer) wait(ctx context.Context, k int, start time.Time) bool {
	var at time.Duration
	switch {
	case p.rate > 0:
		at = time.Duration(float64(k) / p.rate * float64(time.Second))
	case p.offsets != nil && k < len(p.offsets):
		at = p.offsets[k]
	default:
		return ctx.Err() == nil
	}
	if d := time.Until(start.Add(at)); d > time.Millisecond {
		return sleepCtx(ctx, d)
	}
	return ctx.Err() == nil
}

// patchOffsets turns the patches' transaction times into send times: the
// pauses between transactions, each at most maxGap, divided by speed. The
// automerge-paper trace's times are synthetic (all 260k patches within
// 0.3 s), so real time is full speed there; seph-blog1's are real and
// span three months, hence the cap.
func patchOffsets(times []time.Time, maxGap time.Duration, speed float64) []time.Duration {
	if speed <= 0 {
		speed = 1
	}
	offs := make([]time.Duration, len(times))
	var at time.Duration
	for i := 1; i < len(times); i++ {
		gap := min(max(times[i].Sub(times[i-1]), 0), maxGap)
		at += time.Duration(float64(gap) / speed)
		offs[i] = at
	}
	return offs
}
