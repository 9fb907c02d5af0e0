package loadgen

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/internal/testenv"
)

func TestTypistsConverge(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	o := s.options()
	o.Duration, o.RampUp = 1500*time.Millisecond, 300*time.Millisecond
	rp, err := RunTypists(context.Background(), o, Typists{Docs: 2, Editors: 3, Readers: 2, Rate: 30})
	if err != nil {
		t.Fatal(err)
	}
	if !DefaultThresholds().Check(rp) {
		t.Fatalf("run failed: %v", rp.Violations)
	}
	checkSane(t, rp)
	c := rp.Counts
	if c.Clients != 10 || rp.Convergence == nil || rp.Convergence.Clients != 10 || !rp.Convergence.OK {
		t.Fatalf("clients %d, convergence %+v", c.Clients, rp.Convergence)
	}
	if c.Acked == 0 || c.Refused != 0 || c.Unacked != 0 || rp.ErrorCount != 0 {
		t.Fatalf("counts %+v, errors %v", c, rp.Errors)
	}
	// 6 editors at 30 keystrokes/s for 1.5 s: about 270 edits, ops fewer
	// or equal (composed while one is in flight).
	if c.Edits < 100 || rp.Rates.Edits < 60 {
		t.Errorf("edits %d (%.0f/s): the typists did not type", c.Edits, rp.Rates.Edits)
	}
	// Every op reaches the 2 other editors and 2 readers of its document.
	if c.Delivered < 4*c.Acked/2 || rp.Remote.Count == 0 || c.Unmatched != 0 {
		t.Errorf("delivered %d (unmatched %d, timed %d) for %d acked ops", c.Delivered, c.Unmatched, rp.Remote.Count, c.Acked)
	}
	if rp.Server == nil || rp.Server.OpsPerSec <= 0 || rp.Server.After.Values["collab_connections"] < 10 {
		t.Errorf("server metrics not read: %+v (warnings %v)", rp.Server, rp.Warnings)
	}
	var out strings.Builder
	rp.Print(&out)
	if !strings.Contains(out.String(), "convergence: OK") || !strings.Contains(out.String(), "result: PASS") {
		t.Errorf("table:\n%s", out.String())
	}
}

func TestTypistsClientReaders(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	o := s.options()
	o.Duration, o.NoMetrics = time.Second, true
	rp, err := RunTypists(context.Background(), o, Typists{Docs: 1, Editors: 2, Readers: 2, Rate: 40, ReaderMode: ReadersClient, MaxLen: 50})
	if err != nil {
		t.Fatal(err)
	}
	if !DefaultThresholds().Check(rp) {
		t.Fatalf("run failed: %v", rp.Violations)
	}
	checkSane(t, rp)
	if rp.Counts.Delivered == 0 || rp.Server != nil {
		t.Errorf("delivered %d, server %+v", rp.Counts.Delivered, rp.Server)
	}
}

func TestTypistsRawEditors(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	o := s.options()
	o.Duration, o.NoMetrics = time.Second, true
	rp, err := RunTypists(context.Background(), o, Typists{Docs: 2, Editors: 3, Readers: 1, Rate: 40, EditorMode: EditorsRaw, MaxLen: 100})
	if err != nil {
		t.Fatal(err)
	}
	if !DefaultThresholds().Check(rp) || rp.ErrorCount != 0 {
		t.Fatalf("run failed: %v %v", rp.Violations, rp.Errors)
	}
	checkSane(t, rp)
	c := rp.Counts
	if c.Sent == 0 || c.Sent != c.Acked || rp.Convergence.Clients != 8 || c.Delivered < 3*c.Acked/2 {
		t.Fatalf("counts %+v, convergence %+v", c, rp.Convergence)
	}
}

func TestReplayRealTracePrefix(t *testing.T) {
	t.Parallel()
	testenv.TracePath(t, "seph-blog1.json.gz") // RunReplay finds it by name
	s := startServer(t)
	// seph-blog1 has non-ASCII text and a 4 KB paste; 3,000 patches are
	// enough for the composed client replay to send many ops. Loading the
	// trace takes 2 s under -race, so one run covers the real trace.
	rp, err := RunReplay(context.Background(), s.options(), Replay{Traces: []string{"seph-blog1"}, Limit: 3000, Copies: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !DefaultThresholds().Check(rp) {
		t.Fatal(rp.Violations)
	}
	checkSane(t, rp)
	r := rp.Replay[0]
	if !r.Match || r.Patches != 3000 || r.Copies != 2 || r.EditsPerSec <= 0 || r.OpsAcked == 0 || r.OpsAcked > 6000 {
		t.Fatalf("%+v", r)
	}
}

// writeTrace writes a gzipped trace of n typist keystrokes, one
// transaction each, pause ms apart, and returns its path.
func writeTrace(t *testing.T, n int, pause time.Duration) string {
	t.Helper()
	ty := newTypist(5, 0, 1000)
	txt := document.NewText("start ")
	ty.reset(txt.Len())
	type txn struct {
		Time    string  `json:"time"`
		Patches [][]any `json:"patches"`
	}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var txns []txn
	for range n {
		ty.mu.Lock()
		pos, del, ins := ty.choose(min(ty.caret, ty.length))
		ty.mu.Unlock()
		op := document.FromPatch(pos, del, ins)
		if err := txt.Apply(op); err != nil {
			t.Fatal(err)
		}
		ty.remote(op) // moves length and caret as the edit did
		txns = append(txns, txn{Time: at.Format(time.RFC3339Nano), Patches: [][]any{{pos, del, ins}}})
		at = at.Add(pause)
	}
	body, err := json.Marshal(map[string]any{"startContent": "start ", "endContent": txt.String(), "txns": txns})
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(body)
	_ = zw.Close()
	path := filepath.Join(t.TempDir(), "typed.json.gz")
	if err := os.WriteFile(path, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReplayPipelined(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	path := writeTrace(t, 3000, time.Millisecond)
	rp, err := RunReplay(context.Background(), s.options(), Replay{Traces: []string{path}, Copies: 2, Window: 32})
	if err != nil {
		t.Fatal(err)
	}
	if !DefaultThresholds().Check(rp) {
		t.Fatal(rp.Violations)
	}
	checkSane(t, rp)
	// One op per patch, plus the start content's.
	if r := rp.Replay[0]; !r.Match || r.OpsAcked != 2*3001 || rp.Counts.Sent != 2*3001 || rp.Ack.Count != 2*3001 {
		t.Fatalf("%+v, sent %d", r, rp.Counts.Sent)
	}
}

// TestReplayPaces is not parallel: it bounds how long a paced replay
// takes, which other tests' load would stretch.
func TestReplayPaces(t *testing.T) {
	s := startServer(t)
	path := writeTrace(t, 200, 2*time.Millisecond) // 0.4 s of "real" time
	for _, c := range []struct {
		pace   string
		speed  float64
		window int
		least  time.Duration
	}{
		{PaceReal, 1, 0, 380 * time.Millisecond},
		{PaceReal, 4, 8, 90 * time.Millisecond},
		{"500/s", 0, 0, 380 * time.Millisecond},
	} {
		o := s.options()
		o.NoMetrics = true
		start := time.Now()
		rp, err := RunReplay(context.Background(), o, Replay{Traces: []string{path}, Pace: c.pace, Speed: c.speed, Window: c.window})
		if err != nil {
			t.Fatal(err)
		}
		if !DefaultThresholds().Check(rp) {
			t.Fatalf("%s: %v", c.pace, rp.Violations)
		}
		// The lower bound is the pacing; the upper only catches a
		// replay that ignores it the other way, with room for dialling
		// and checking under -race on a busy machine.
		if el := time.Since(start); el < c.least || el > c.least*10+5*time.Second {
			t.Errorf("pace %s speed %v took %v, want about %v", c.pace, c.speed, el, c.least)
		}
	}
	if _, err := RunReplay(context.Background(), s.options(), Replay{Traces: []string{path}, Pace: "fast"}); err == nil {
		t.Error("pace \"fast\" accepted")
	}
}

// TestStormMeasuresMemory is not parallel: it measures the memory of
// its process, which other tests would use too.
func TestStormMeasuresMemory(t *testing.T) {
	s := startServer(t)
	o := s.options()
	o.Duration = 200 * time.Millisecond
	rp, err := RunStorm(context.Background(), o, Storm{Conns: 60, Docs: 3, Settle: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !DefaultThresholds().Check(rp) {
		t.Fatalf("storm failed: %v", rp.Violations)
	}
	st := rp.Storm
	if st.Connected != 60 || st.Dropped != 0 || st.ServerConns != 60 || rp.Connect.Count != 60 {
		t.Fatalf("storm %+v, connect %+v", st, rp.Connect)
	}
	if st.RSSPerConn == 0 && st.HeapPerConn == 0 {
		t.Errorf("no memory measured: %+v", st)
	}
	th := DefaultThresholds()
	th.MaxMemPerConn = 1 // byte: nothing fits
	if th.Check(rp) && st.RSSPerConn > 1 {
		t.Error("a connection costing more than 1 byte passed a 1-byte limit")
	}
}

func TestStormCountsFailures(t *testing.T) {
	t.Parallel()
	o := Options{URLs: []string{"ws://127.0.0.1:1/ws"}, NoMetrics: true, Duration: time.Millisecond}
	rp, err := RunStorm(context.Background(), o, Storm{Conns: 5, Settle: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rp.Counts.ConnectFails != 5 || rp.ConnFailed["connection refused"] != 5 {
		t.Fatalf("failures %d %v", rp.Counts.ConnectFails, rp.ConnFailed)
	}
	if DefaultThresholds().Check(rp) {
		t.Error("a storm where every connect failed passed")
	}
}
