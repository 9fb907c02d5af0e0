package loadgen

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
)

// Report is the outcome of one scenario run, written as JSON for
// comparing runs (field names are stable) and printed as a table.
type Report struct {
	Scenario string         `json:"scenario"`
	Params   map[string]any `json:"params"`
	Started  time.Time      `json:"started"`
	// ElapsedSec is the whole run; SteadySec the measurement window that
	// Rates and the latencies cover (ramp-up and drain excluded).
	ElapsedSec float64 `json:"elapsed_s"`
	SteadySec  float64 `json:"steady_s"`

	Counts Counts `json:"counts"`
	Rates  Rates  `json:"rates_per_s"`
	// Ack is send → ack of the author's own ops; Remote is the author's
	// send → another client receiving the op; Connect is dial start →
	// first server reply (snapshot).
	Ack     Latency `json:"ack_latency"`
	Remote  Latency `json:"remote_latency"`
	Connect Latency `json:"connect_latency"`

	Series     []Second          `json:"series"`
	Refused    map[string]uint64 `json:"refused_by_code"`
	ConnFailed map[string]uint64 `json:"connect_failures"`
	ErrorCount uint64            `json:"error_count"`
	Errors     []string          `json:"errors"`
	// Warnings are problems of the measurement, not of the server (for
	// example /metrics not reachable).
	Warnings    []string       `json:"warnings"`
	Convergence *Convergence   `json:"convergence,omitempty"`
	Server      *ServerSide    `json:"server,omitempty"`
	Storm       *StormResult   `json:"storm,omitempty"`
	Replay      []ReplayResult `json:"replay,omitempty"`
	Generator   Generator      `json:"generator"`
	// Violations lists the checks and thresholds that failed; empty means
	// the run passed. Filled by Thresholds.Check.
	Violations []string `json:"violations"`
}

// Counts are totals over the whole run.
type Counts struct {
	Clients int `json:"clients"`
	// Edits are local changes (keystrokes, trace patches); the Go client
	// composes edits made while an op is in flight, so Sent ≤ Edits.
	Edits uint64 `json:"edits"`
	// Sent is Acked + Refused + Unacked for Go clients (which do not
	// expose sends), counted directly for raw clients.
	Sent      uint64 `json:"ops_sent"`
	Acked     uint64 `json:"ops_acked"`
	Refused   uint64 `json:"ops_refused"`
	Unacked   uint64 `json:"ops_unacked"`
	Delivered uint64 `json:"delivered"`
	// Unmatched deliveries have no latency: their author's ack never came.
	Unmatched uint64 `json:"delivered_unmatched"`
	// LateEdits were made over 100 ms behind their schedule: the load
	// generator itself could not keep up, and the offered load is lower
	// than configured.
	LateEdits uint64 `json:"late_edits"`
	// SkippedEdits did not fit the local text: the typist's idea of the
	// length was behind a remote delete its hook had not yet reported.
	SkippedEdits uint64 `json:"skipped_edits"`
	ConnectFails uint64 `json:"connect_failures"`
}

// Rates are per second over the steady window.
type Rates struct {
	Edits     float64 `json:"edits"`
	Sent      float64 `json:"ops_sent"`
	Acked     float64 `json:"ops_acked"`
	Delivered float64 `json:"delivered"`
	Refused   float64 `json:"refused"`
}

// Second is one point of the per-second series.
type Second struct {
	T         float64 `json:"t_s"`
	Edits     uint64  `json:"edits"`
	Acked     uint64  `json:"acked"`
	Delivered uint64  `json:"delivered"`
	Refused   uint64  `json:"refused"`
	AckP99    float64 `json:"ack_p99_ms"`
	RemoteP99 float64 `json:"remote_p99_ms"`
	Conns     int64   `json:"conns"`
}

// Convergence is the final check: every client's text (or, for raw
// readers, the last version seen) equals what a fresh client reads from
// the server.
type Convergence struct {
	Checked  bool     `json:"checked"`
	OK       bool     `json:"ok"`
	Docs     int      `json:"docs"`
	Clients  int      `json:"clients"`
	Failures []string `json:"failures"`
}

// Generator describes the load generator's own cost: it shares the
// machine with the server, so its CPU time is CPU the server did not get.
type Generator struct {
	CPUSec     float64 `json:"cpu_s"`
	GOMAXPROCS int     `json:"gomaxprocs"`
	PeakConns  int64   `json:"peak_conns"`
	// Over the steady window, in cores: the load generator, and the
	// whole machine (Linux), which includes the server and anything else
	// running.
	SteadyCores  float64 `json:"steady_cores"`
	MachineCores float64 `json:"machine_busy_cores"`
	NumCPU       int     `json:"num_cpu"`
}

// WriteJSON writes the report to path, indented.
func (rp *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(rp, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fill copies the recorder's totals into the report.
func (r *recorder) fill(rp *Report) {
	rp.ElapsedSec = time.Since(r.start).Seconds()
	rp.SteadySec, rp.Rates = r.steadyRates()
	// Go clients do not expose sends: what was acked or refused was sent.
	rp.Rates.Sent = max(rp.Rates.Sent, rp.Rates.Acked+rp.Rates.Refused)
	c := &rp.Counts
	c.Edits, c.Acked, c.Refused, c.Unacked = r.edits.Load(), r.acked.Load(), r.refused.Load(), r.unacked.Load()
	c.Sent = max(r.sent.Load(), c.Acked+c.Refused+c.Unacked)
	c.Delivered, c.Unmatched = r.delivered.Load(), r.unmatched.Load()
	c.LateEdits, c.SkippedEdits, c.ConnectFails = r.late.Load(), r.skipped.Load(), r.connFails.Load()
	rp.Ack, rp.Remote, rp.Connect = r.ack.summary(), r.remote.summary(), r.connect.summary()
	rp.Refused = copyMap(&r.mu, r.codes)
	rp.ConnFailed = copyMap(&r.mu, r.failures)
	rp.ErrorCount, rp.Errors = r.errorSummary()
	r.mu.Lock()
	rp.Series = append([]Second(nil), r.series...)
	r.mu.Unlock()
	rp.Generator.GOMAXPROCS = runtime.GOMAXPROCS(0)
}
