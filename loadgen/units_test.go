package loadgen

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/protocol"
)

func TestScanFrameMatchesServerEncoding(t *testing.T) {
	t.Parallel()
	op := document.Op{{Retain: 3}, {Insert: `he said "version":9 \ ok`}}
	cases := []struct {
		frame   []byte
		kind    frameKind
		version int64
		ok      bool
	}{
		{protocol.AppendOp(nil, "d-1", 41, "c:1", "c", op), kindOp, 41, true},
		{protocol.AppendAck(nil, "d-1", "c:2", 7), kindAck, 7, true},
		{protocol.AppendSnapshot(nil, "d-1", 12, `"version":99`), kindSnapshot, 12, true},
		{protocol.AppendOpened(nil, "d-1", 0), kindOpened, 0, true},
		{protocol.AppendError(nil, &protocol.Error{Code: protocol.CodeBadVersion, Doc: "d-1", ID: "c:3"}), kindError, 0, false},
		{[]byte(`{"doc":"x","type":"op","version":3}`), kindOther, 0, false},
	}
	for _, c := range cases {
		kind, v, ok := scanFrame(c.frame)
		if kind != c.kind || v != c.version || ok != c.ok {
			t.Errorf("scanFrame(%s) = %d, %d, %v; want %d, %d, %v", c.frame, kind, v, ok, c.kind, c.version, c.ok)
		}
	}
}

func TestOpSpan(t *testing.T) {
	t.Parallel()
	op := document.Op{{Retain: 3}, {Insert: `a "]" \\ é 😀`}, {Delete: 2}}
	frame := protocol.AppendOp(nil, "d", 4, "c:1", "c", op)
	var got document.Op
	if err := got.UnmarshalJSON(opSpan(frame)); err != nil {
		t.Fatalf("%s: %v", opSpan(frame), err)
	}
	if len(got) != 3 || got[1].Insert != op[1].Insert || got[2].Delete != 2 {
		t.Fatalf("decoded %+v from %s", got, frame)
	}
}

func TestParseMetrics(t *testing.T) {
	t.Parallel()
	text := `# HELP collab_connections WebSocket connections being served.
# TYPE collab_connections gauge
collab_connections 12
go_gc_duration_seconds{quantile="0.5"} 1e-05
process_resident_memory_bytes 2.5e+07
unwatched_total 3
`
	m, err := parseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 2 || m["collab_connections"] != 12 || m["process_resident_memory_bytes"] != 25e6 {
		t.Fatalf("parsed %v", m)
	}
	if _, err := parseMetrics(strings.NewReader("collab_connections x\n")); err == nil {
		t.Error("a malformed value parsed")
	}
}

func TestThresholdsCheck(t *testing.T) {
	t.Parallel()
	rp := &Report{
		Ack:    Latency{Count: 10, P50: 1, P99: 60},
		Rates:  Rates{Acked: 1500},
		Counts: Counts{ConnectFails: 1},
	}
	th := DefaultThresholds()
	th.MaxAckP99, th.MaxAckP50, th.MinOps = 50*time.Millisecond, 2*time.Millisecond, 2000
	th.MaxRemoteP99 = 10 * time.Millisecond // no remote samples: a failure, not a pass
	if th.Check(rp) {
		t.Fatal("passed")
	}
	want := []string{"ack p99 60.00 ms > 50ms", "remote p99: no samples", "acked ops 1500/s < 2000/s", "connect failures 1 > 0"}
	got := strings.Join(rp.Violations, "\n")
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("violations %q lack %q", got, w)
		}
	}
	if len(rp.Violations) != len(want) {
		t.Errorf("violations %q, want %d", got, len(want))
	}
	rp.Counts.ConnectFails, rp.Ack.P99, rp.Rates.Acked = 0, 40, 2500
	th.MaxRemoteP99 = 0
	if !th.Check(rp) {
		t.Fatalf("within limits but failed: %v", rp.Violations)
	}
	rp.Convergence = &Convergence{Checked: true, OK: false, Clients: 3, Failures: []string{"x"}}
	if th.Check(rp) {
		t.Error("a failed convergence passed")
	}
}

// The typist's ops must fit the text it models, and its length must
// follow the text through remote ops.
func TestTypistStaysInsideText(t *testing.T) {
	t.Parallel()
	rnd := rand.New(rand.NewPCG(1, 2))
	txt := document.NewText("hello")
	ty := newTypist(3, 5, 200)
	for i := range 20000 {
		if rnd.IntN(4) == 0 {
			// Someone else edits somewhere.
			n := txt.Len()
			pos := rnd.IntN(n + 1)
			remote := document.FromPatch(pos, min(rnd.IntN(3), n-pos), strings.Repeat("r", rnd.IntN(3)))
			if err := txt.Apply(remote); err != nil {
				t.Fatal(err)
			}
			ty.remote(remote)
		}
		op, commit := ty.keystroke()
		if err := txt.Apply(op); err != nil {
			t.Fatalf("keystroke %d: %v (length %d, typist %d)", i, err, txt.Len(), ty.length)
		}
		commit()
		if ty.length != txt.Len() || ty.caret < 0 || ty.caret > ty.length {
			t.Fatalf("keystroke %d: typist length %d caret %d, text %d", i, ty.length, ty.caret, txt.Len())
		}
	}
	if n := utf8.RuneCountInString(txt.String()); n > 600 {
		t.Errorf("text grew to %d code points past a soft cap of 200", n)
	}
}

// TestReceiverParksEarlyDeliveries is not parallel: it checks a latency
// to a tenth of a millisecond, which a busy CPU would stretch.
func TestReceiverParksEarlyDeliveries(t *testing.T) {
	rec := newRecorder()
	rec.beginSteady()
	snd := newSender(rec, "d", 0)
	rcv := newReceiver(rec, "d", 1)
	received := time.Now()
	rcv.received(0) // before the author's ack: parked
	// The ack comes 2 ms after the delivery, which must not count in the
	// latency. (Time passing on purpose; nothing runs meanwhile.)
	time.Sleep(2 * time.Millisecond)
	// The op was sent 3 ms before it was received.
	snd.acked(0, time.Since(received)+3*time.Millisecond)
	// The interval between scans of parked deliveries passes, on purpose.
	time.Sleep(resolveEvery)
	rcv.received(1) // resolves version 0; version 1 is parked
	rcv.flush()     // version 1 never acked: unmatched
	// 3 ms, give or take the test's own scheduling; counting the 2 ms the
	// ack took would make it 5.
	if got := rec.remote.summary(); got.Count != 1 || got.P50 < 2.5 || got.P50 > 4.5 {
		t.Errorf("remote latency %+v, want one sample of 3 ms", got)
	}
	if rec.delivered.Load() != 2 || rec.unmatched.Load() != 1 {
		t.Errorf("delivered %d unmatched %d", rec.delivered.Load(), rec.unmatched.Load())
	}
}

// Connections spread over source addresses 127.0.0.1…N, as the server
// sees them.
func TestSourceAddrs(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]int{}
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		mu.Lock()
		seen[host]++
		mu.Unlock()
		if ws, err := up.Upgrade(w, r, nil); err == nil {
			_ = ws.Close()
		}
	}))
	defer srv.Close()
	d, err := newDialers(3, 0, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	for range 6 {
		c, err := dialRaw(context.Background(), d.pick(), url)
		if err != nil {
			t.Fatal(err)
		}
		c.close()
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 3 || seen["127.0.0.1"] != 2 || seen["127.0.0.2"] != 2 || seen["127.0.0.3"] != 2 {
		t.Fatalf("source addresses seen: %v", seen)
	}
}

func TestNormalizeURLs(t *testing.T) {
	t.Parallel()
	e, err := normalizeURLs([]string{"ws://h:1", "wss://g:2/ws"})
	if err != nil || e[0] != "ws://h:1/ws" || e[1] != "wss://g:2/ws" {
		t.Fatalf("%v %v", e, err)
	}
	if m := e.metricsURLs(); len(m) != 2 || m[0] != "http://h:1/metrics" || m[1] != "https://g:2/metrics" {
		t.Fatalf("metrics urls %v", m)
	}
	url, fb := endpoints{"a", "b", "c"}.forClient(4)
	if url != "b" || len(fb) != 2 || fb[0] != "c" || fb[1] != "a" {
		t.Errorf("forClient(4) = %s %v", url, fb)
	}
	if _, err := normalizeURLs([]string{"http://h"}); err == nil {
		t.Error("http url accepted")
	}
	if _, err := newDialers(300, 0, time.Second); err == nil {
		t.Error("300 source addresses accepted")
	}
}
