package hub

import (
	"sync/atomic"
	"time"
)

// LatencyBounds are the upper bounds of the hub's latency histograms'
// buckets: from 100 µs (a commit on an idle disk is ~200 µs) to 10 s (the
// write timeout), about ×2.5 apart, the usual Prometheus spacing.
var LatencyBounds = []time.Duration{
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// latency is a histogram with fixed buckets, updated with atomics from any
// goroutine: three adds and a short scan per observation, so it can sit
// on the per-op path. The metrics package turns it into a Prometheus
// histogram at scrape time.
type latency struct {
	counts [17]atomic.Uint64 // per bucket of LatencyBounds, then +Inf
	sum    atomic.Int64      // nanoseconds
}

func (l *latency) observe(d time.Duration) {
	i := 0
	for i < len(LatencyBounds) && d > LatencyBounds[i] {
		i++
	}
	l.counts[i].Add(1)
	l.sum.Add(int64(d))
}

// Histogram is a point-in-time copy of a latency histogram.
type Histogram struct {
	// Counts[i] is the number of observations in bucket i: at most
	// LatencyBounds[i] and above the bound before it; the last one counts
	// those above every bound.
	Counts []uint64
	Sum    time.Duration
}

// Count is the number of observations.
func (h Histogram) Count() uint64 {
	var n uint64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

func (l *latency) snapshot() Histogram {
	h := Histogram{Counts: make([]uint64, len(l.counts)), Sum: time.Duration(l.sum.Load())}
	for i := range l.counts {
		h.Counts[i] = l.counts[i].Load()
	}
	return h
}
