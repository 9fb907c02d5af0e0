package loadgen

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// startTicker runs the once-a-second sampler on a goroutine owned by wg:
// it closes the latency intervals, appends a point to the series and, if
// w is not nil, prints a progress line to it. It stops with ctx.
func (r *recorder) startTicker(ctx context.Context, wg *sync.WaitGroup, w io.Writer) {
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			s := r.sample()
			if w != nil {
				fmt.Fprintln(w, r.progressLine(s))
			}
		}
	})
}

// finalSample closes the last, partial second if it is 100 ms or more
// (or if there is no point at all: a run shorter than a second).
func (r *recorder) finalSample() {
	r.mu.Lock()
	last := r.prev.at
	n := len(r.series)
	r.mu.Unlock()
	if n == 0 || time.Since(last) >= 100*time.Millisecond {
		r.sample()
	}
}

// sample closes one interval: folds the histograms and appends its point.
// Only the ticker (or, after it stopped, finalSample) calls it.
func (r *recorder) sample() Second {
	r.ack.fold()
	r.remote.fold()
	r.connect.fold()
	cur := r.markNow()
	r.mu.Lock()
	prev := r.prev
	r.prev = cur
	r.mu.Unlock()
	s := Second{
		T:         cur.at.Sub(r.start).Seconds(),
		Edits:     cur.edits - prev.edits,
		Acked:     cur.acked - prev.acked,
		Delivered: cur.delivered - prev.delivered,
		Refused:   cur.rf - prev.rf,
		AckP99:    r.ack.lastP99(),
		RemoteP99: r.remote.lastP99(),
		Conns:     r.conns.Load(),
	}
	r.mu.Lock()
	r.series = append(r.series, s)
	r.mu.Unlock()
	return s
}

// progressLine is one line of live progress: totals, this second's rates,
// and p99 over the steady window so far.
func (r *recorder) progressLine(s Second) string {
	sentLabel, sent := "edits", r.edits.Load()
	if n := r.sent.Load(); n > 0 {
		sentLabel, sent = "sent", n
	}
	errs, _ := r.errorSummary()
	return fmt.Sprintf("%5.0fs  conns %-6d %s %-8s acked %-8s %7.0f ops/s  delivered %-8s %8.0f/s  refused %d  p99 ack %s remote %s  errors %d",
		s.T, s.Conns, sentLabel, short(sent), short(r.acked.Load()), float64(s.Acked),
		short(r.delivered.Load()), float64(s.Delivered), r.refused.Load(),
		fmtMS(r.ack.totalP99()), fmtMS(r.remote.totalP99()), errs)
}

// short formats a count as 999, 12.3k or 4.56M.
func short(n uint64) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	default:
		return fmt.Sprint(n)
	}
}

func fmtMS(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fms", v)
}
