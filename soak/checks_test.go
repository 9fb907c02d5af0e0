package soak

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/collabedit/collab/protocol"
)

// These tests show that each check can fail: fed the defect it claims to
// catch, it reports it. They need no server.

// feed runs frames through d and returns every problem they showed.
func feed(t *testing.T, d *rawDoc, frames ...string) []problem {
	t.Helper()
	var out []problem
	for _, f := range frames {
		m, err := protocol.DecodeMessage([]byte(f))
		if err != nil {
			t.Fatalf("frame %s: %v", f, err)
		}
		out = append(out, d.handle(m).problems...)
	}
	return out
}

// readyDoc returns a raw document opened at version 5, text "abc".
func readyDoc(t *testing.T) *rawDoc {
	t.Helper()
	d := newRawDoc("r1", "d")
	d.open(false)
	if p := feed(t, d, `{"type":"snapshot","doc":"d","version":5,"text":"abc"}`); len(p) != 0 {
		t.Fatalf("problems on a plain snapshot: %v", p)
	}
	return d
}

func expectProblem(t *testing.T, got []problem, c check, substr string) {
	t.Helper()
	if len(got) != 1 || got[0].check != c || !strings.Contains(got[0].detail, substr) {
		t.Fatalf("problems %v, want one %q containing %q", got, c, substr)
	}
}

func TestRawDocInOrder(t *testing.T) {
	t.Parallel()
	d := readyDoc(t)
	if p := feed(t, d, `{"type":"op","doc":"d","version":5,"id":"x:1","op":[3,"!"]}`); len(p) != 0 {
		t.Fatal(p)
	}
	if d.newOp("M") == nil {
		t.Fatal("no op sent when ready")
	}
	out := d.handle(protocol.Message{Type: "ack", Doc: "d", ID: "r1:1", Version: 6})
	if len(out.problems) != 0 || len(out.acked) != 1 || out.acked[0].version != 6 {
		t.Fatalf("ack: %+v", out)
	}
	if d.text != "Mabc!" || d.version != 7 || d.pending() != "" {
		t.Fatalf("text %q version %d pending %q", d.text, d.version, d.pending())
	}
}

// TestRawDocDeliveredAgain is the defect seen during a Redis pause: an op
// at a version already received (1289 again at 1291).
func TestRawDocDeliveredAgain(t *testing.T) {
	t.Parallel()
	d := readyDoc(t)
	p := feed(t, d,
		`{"type":"op","doc":"d","version":5,"id":"x:1","op":["a"]}`,
		`{"type":"op","doc":"d","version":6,"id":"x:2","op":["b"]}`,
		`{"type":"op","doc":"d","version":5,"id":"x:1","op":["a"]}`)
	expectProblem(t, p, checkOrder, "op x:1 at version 5, expected 7 (delivered again)")
}

func TestRawDocGap(t *testing.T) {
	t.Parallel()
	d := readyDoc(t)
	expectProblem(t, feed(t, d, `{"type":"op","doc":"d","version":7,"id":"x:1","op":["a"]}`), checkOrder, "(a gap)")
	if d.phase != rawOpening {
		t.Fatal("no resync after a gap")
	}
}

func TestRawDocAckOutOfOrder(t *testing.T) {
	t.Parallel()
	d := readyDoc(t)
	d.newOp("M")
	expectProblem(t, feed(t, d, `{"type":"ack","doc":"d","id":"r1:1","version":9}`), checkOrder, "expected 5")
	// The resync's snapshot contains the op: no double counting.
	if p := feed(t, d, `{"type":"snapshot","doc":"d","version":12,"text":"Mabc"}`); len(p) != 0 || d.pending() != "" {
		t.Fatalf("problems %v, pending %q", p, d.pending())
	}
}

func TestRawDocDuplicateAckElsewhere(t *testing.T) {
	t.Parallel()
	d := readyDoc(t)
	d.newOp("M")
	feed(t, d, `{"type":"ack","doc":"d","id":"r1:1","version":5}`)
	expectProblem(t, feed(t, d, `{"type":"ack","doc":"d","id":"r1:1","version":4}`), checkAckVersion, "first acknowledged at 5")
}

func TestRawDocOpenedElsewhere(t *testing.T) {
	t.Parallel()
	d := readyDoc(t)
	d.disconnected()
	d.open(false)
	p := feed(t, d, `{"type":"op","doc":"d","version":5,"id":"x:1","op":["a"]}`, `{"type":"opened","doc":"d","version":7}`)
	expectProblem(t, p, checkOrder, "opened at version 7, but the catch-up brought us to 6")
}

func TestRawDocCatchUpHoldsOwnOp(t *testing.T) {
	t.Parallel()
	d := readyDoc(t)
	d.newOp("M")
	d.disconnected()
	if !strings.Contains(string(d.open(true)), `"version":5`) {
		t.Fatal("reopen does not resume from our version")
	}
	out := d.handle(protocol.Message{Type: "op", Doc: "d", ID: "r1:1", Version: 5, Op: nil})
	if len(out.problems) != 0 || len(out.acked) != 1 || d.text != "Mabc" {
		t.Fatalf("own op in catch-up: %+v text %q", out, d.text)
	}
	if p := feed(t, d, `{"type":"opened","doc":"d","version":6}`); len(p) != 0 || d.pending() != "" {
		t.Fatalf("problems %v pending %q", p, d.pending())
	}
}

func TestRawDocSnapshotWhileInFlight(t *testing.T) {
	t.Parallel()
	d := readyDoc(t)
	d.newOp("M")
	out := d.handle(protocol.Message{Type: "snapshot", Doc: "d", Version: 9, Text: "Mabcdef"})
	if len(out.send) != 1 || !strings.Contains(string(out.send[0]), `"id":"r1:1"`) {
		t.Fatalf("the op of unknown fate was not resent: %q", out.send)
	}
	// The answer says it was applied at 5, below the snapshot: it is in
	// there, and the text is the snapshot's.
	if p := feed(t, d, `{"type":"ack","doc":"d","id":"r1:1","version":5}`); len(p) != 0 || d.text != "Mabcdef" || d.version != 9 {
		t.Fatalf("problems %v text %q version %d", p, d.text, d.version)
	}
}

func TestRawDocErrors(t *testing.T) {
	t.Parallel()
	d := readyDoc(t)
	d.newOp("M")
	out := d.handle(protocol.Message{Type: "error", Doc: "d", ID: "r1:1", Code: protocol.CodeUnavailable, Message: "ownership moved"})
	if !out.retryOp || len(out.problems) != 0 || out.unavailable != "ownership moved" {
		t.Fatalf("unavailable: %+v", out)
	}
	expectProblem(t, feed(t, d, `{"type":"error","doc":"d","id":"r1:1","code":"internal","message":"bug 42"}`), checkError, "internal")
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	log := docLog{doc: "d", version: 4, events: []logEvent{{0, "a:1"}, {1, "b:1"}, {2, "a:2"}, {3, "c:7"}}}
	acked := map[string]ackRecord{"a:1": {0, "a"}, "b:1": {1, "b"}, "a:2": {2, "a"}, "c:7": {3, "c"}}
	if r := reconcile(log, acked, nil, nil); len(r.lost)+len(r.misplaced)+len(r.doubled) != 0 {
		t.Fatalf("a matching log: %+v", r)
	}
	acked["z:1"] = ackRecord{4, "z"}
	if r := reconcile(log, acked, nil, nil); len(r.lost) != 1 || !strings.Contains(r.lost[0], "z:1") {
		t.Fatalf("lost: %+v", r)
	}
	delete(acked, "z:1")
	acked["b:1"] = ackRecord{3, "b"}
	if r := reconcile(log, acked, nil, nil); len(r.misplaced) != 1 {
		t.Fatalf("misplaced: %+v", r)
	}
	acked["b:1"] = ackRecord{1, "b"}
	// An op resent under a new id: two events, one ack.
	log.events = append(log.events, logEvent{4, "a:3"}, logEvent{5, "a:4"})
	if r := reconcile(log, acked, nil, nil); len(r.doubled) != 2 {
		t.Fatalf("doubled: %+v", r)
	}
	// a was still waiting for one op when editing stopped: one may be in
	// flight, not two.
	if r := reconcile(log, acked, nil, map[string]bool{"a": true}); len(r.doubled) != 1 || !strings.Contains(r.doubled[0], "a:4") {
		t.Fatalf("doubled with a unsynced: %+v", r)
	}
	if r := reconcile(log, acked, map[string]string{"a:3": "a", "a:4": "a"}, nil); len(r.doubled) != 0 {
		t.Fatalf("doubled with unsettled ids: %+v", r)
	}
}

func TestKillExplainsDisconnect(t *testing.T) {
	t.Parallel()
	kills := newKillLog()
	t0 := time.Now()
	kills.killed("ws://p0", t0.Add(10*time.Second))
	for _, tc := range []struct {
		url             string
		connected, drop time.Duration
		want            bool
	}{
		{"ws://p0", 1 * time.Second, 10*time.Second + 5*time.Millisecond, true},
		{"ws://p1", 1 * time.Second, 10*time.Second + 5*time.Millisecond, false}, // another process
		{"ws://p0", 1 * time.Second, 9 * time.Second, false},                     // dropped before the kill
		{"ws://p0", 11 * time.Second, 12 * time.Second, false},                   // connected to the restarted one
	} {
		if got := kills.explains(tc.url, t0.Add(tc.connected), t0.Add(tc.drop)); got != tc.want {
			t.Errorf("%+v: explained %v", tc, got)
		}
	}
	found := newFindings(t0)
	w := newConnWatch("e1", "d", kills, found)
	w.connected("ws://p1")
	w.disconnected("ws://p1", errors.New("connection reset"), false)
	if found.count(checkDisconnect) != 1 {
		t.Fatal("an unexplained disconnect was not a finding")
	}
	w.connected("ws://p1")
	w.disconnected("ws://p1", nil, true)
	if found.count(checkDisconnect) != 1 {
		t.Fatal("a deliberate disconnect was a finding")
	}
}

func TestFaultTimesOverlap(t *testing.T) {
	t.Parallel()
	var f faultTimes
	before := time.Now()
	time.Sleep(2 * time.Millisecond) // the clock moves on: the fault begins strictly after before
	i := f.begin()
	if !f.overlaps(before, time.Now()) {
		t.Fatal("a running fault does not overlap the present")
	}
	f.end(i)
	time.Sleep(2 * time.Millisecond) // the clock moves on: now is strictly after the fault's end
	if f.overlaps(time.Now(), time.Now().Add(time.Second)) {
		t.Fatal("a finished fault overlaps the future")
	}
	if !f.overlaps(before, time.Now()) {
		t.Fatal("a finished fault does not overlap its own time")
	}
}
