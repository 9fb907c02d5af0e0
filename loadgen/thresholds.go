package loadgen

import (
	"fmt"
	"time"
)

// Thresholds are pass/fail limits on a report. A zero duration or rate,
// and a negative count, means "no limit". The checks every run makes
// regardless (convergence, replayed text equal to the trace's end) are
// always applied.
type Thresholds struct {
	MaxAckP50, MaxAckP99       time.Duration
	MaxRemoteP50, MaxRemoteP99 time.Duration
	// MinOps is acknowledged ops per second over the steady window;
	// MinDelivered is other clients' ops received per second;
	// MinEdits is local edits (keystrokes, trace patches) per second.
	MinOps, MinDelivered, MinEdits float64
	MaxRefused, MaxErrors          int64
	MaxConnectFailures             int64
	// MaxMemPerConn is server RSS growth per idle connection (storm), and
	// MaxRSS the server's RSS at the end, in bytes.
	MaxMemPerConn, MaxRSS float64
}

// DefaultThresholds fails a run on any connect failure and nothing else
// beyond the built-in checks.
func DefaultThresholds() Thresholds {
	return Thresholds{MaxRefused: -1, MaxErrors: -1, MaxConnectFailures: 0}
}

// Check records in rp.Violations every limit crossed and every built-in
// check failed, and reports whether the run passed.
func (t Thresholds) Check(rp *Report) bool {
	v := &rp.Violations
	*v = (*v)[:0]
	maxDur := func(name string, got float64, limit time.Duration, count int64) {
		lim := float64(limit) / float64(time.Millisecond)
		switch {
		case limit <= 0:
		case count == 0:
			*v = append(*v, fmt.Sprintf("%s: no samples to compare with %v", name, limit))
		case got > lim:
			*v = append(*v, fmt.Sprintf("%s %.2f ms > %v", name, got, limit))
		}
	}
	maxDur("ack p50", rp.Ack.P50, t.MaxAckP50, rp.Ack.Count)
	maxDur("ack p99", rp.Ack.P99, t.MaxAckP99, rp.Ack.Count)
	maxDur("remote p50", rp.Remote.P50, t.MaxRemoteP50, rp.Remote.Count)
	maxDur("remote p99", rp.Remote.P99, t.MaxRemoteP99, rp.Remote.Count)
	minRate := func(name string, got, limit float64) {
		if limit > 0 && got < limit {
			*v = append(*v, fmt.Sprintf("%s %.0f/s < %.0f/s", name, got, limit))
		}
	}
	minRate("acked ops", rp.Rates.Acked, t.MinOps)
	minRate("delivered", rp.Rates.Delivered, t.MinDelivered)
	minRate("edits", rp.Rates.Edits, t.MinEdits)
	maxCount := func(name string, got uint64, limit int64) {
		if limit >= 0 && got > uint64(limit) {
			*v = append(*v, fmt.Sprintf("%s %d > %d", name, got, limit))
		}
	}
	maxCount("refused ops", rp.Counts.Refused, t.MaxRefused)
	maxCount("errors", rp.ErrorCount, t.MaxErrors)
	maxCount("connect failures", rp.Counts.ConnectFails, t.MaxConnectFailures)
	t.checkMemory(rp)
	builtinChecks(rp)
	return len(rp.Violations) == 0
}

func (t Thresholds) checkMemory(rp *Report) {
	if t.MaxMemPerConn > 0 {
		switch s := rp.Storm; {
		case s == nil || s.RSSPerConn == 0:
			rp.Violations = append(rp.Violations, "memory per connection: not measured (storm scenario with server metrics)")
		case s.RSSPerConn > t.MaxMemPerConn:
			rp.Violations = append(rp.Violations, fmt.Sprintf("server RSS per connection %.0f B > %.0f B", s.RSSPerConn, t.MaxMemPerConn))
		}
	}
	if t.MaxRSS > 0 {
		rss := serverRSS(rp)
		switch {
		case rss == 0:
			rp.Violations = append(rp.Violations, "server RSS: not measured (no server metrics)")
		case rss > t.MaxRSS:
			rp.Violations = append(rp.Violations, fmt.Sprintf("server RSS %.1f MB > %.1f MB", rss/(1<<20), t.MaxRSS/(1<<20)))
		}
	}
}

// serverRSS is the highest RSS the report saw on the server side.
func serverRSS(rp *Report) float64 {
	const k = "process_resident_memory_bytes"
	var rss float64
	if s := rp.Server; s != nil {
		rss = max(s.Before.Values[k], s.After.Values[k])
	}
	if s := rp.Storm; s != nil {
		rss = max(rss, s.AfterConnect.Values[k], s.End.Values[k])
	}
	return rss
}

// builtinChecks are failures whatever the thresholds: a client that does
// not hold the server's text, a replay that did not end at the trace's
// end content.
func builtinChecks(rp *Report) {
	if c := rp.Convergence; c != nil && c.Checked && !c.OK {
		rp.Violations = append(rp.Violations, fmt.Sprintf("convergence failed: %d of %d clients", len(c.Failures), c.Clients))
	}
	for _, r := range rp.Replay {
		if !r.Match {
			rp.Violations = append(rp.Violations, fmt.Sprintf("replay %s: final text differs from the trace's end content (%s)", r.Trace, r.Problem))
		}
	}
}
