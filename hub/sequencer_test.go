package hub

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/protocol"
)

// recorder is a subscriber that keeps what it is sent: room and
// sequencer tests need no socket.
type recorder struct {
	frames []string
	errs   []*protocol.Error
}

func (r *recorder) send(frame []byte)           { r.frames = append(r.frames, string(frame)) }
func (r *recorder) sendError(e *protocol.Error) { r.errs = append(r.errs, e) }

var _ subscriber = (*recorder)(nil)

var t0 = time.Unix(1_000_000, 0)

func testLimits() limits {
	return limits{maxDocLen: 100, maxCatchUp: 50, historyLen: 1000, historyBytes: 1 << 20,
		maxPendingBytes: 1 << 20, snapshotEvery: 1000, commitTimeout: time.Second}
}

// newTestSequencer returns a loaded sequencer of doc "d" holding text at
// version 0.
func newTestSequencer(tb testing.TB, lim limits, text string) *sequencer {
	tb.Helper()
	s := newSequencer("d", lim)
	s.reset(history{}, document.NewText(text))
	return s
}

func opReq(tb testing.TB, id string, version int64, op string) protocol.Request {
	tb.Helper()
	var o document.Op
	if err := o.UnmarshalJSON([]byte(op)); err != nil {
		tb.Fatalf("op %s: %v", op, err)
	}
	return protocol.Request{Type: protocol.TypeOp, Doc: "d", ID: id, Version: version, HasVersion: true, Op: o}
}

// mustAdmit admits an op that must be sequenced and returns its version.
func mustAdmit(tb testing.TB, s *sequencer, o origin, req protocol.Request) int64 {
	tb.Helper()
	a := s.admit(o, req, t0)
	if a.kind != admitted {
		tb.Fatalf("admit %s: kind %d, err %v", req.ID, a.kind, a.err)
	}
	return a.version
}

func settle(tb testing.TB, s *sequencer, v int64, err error) {
	tb.Helper()
	if _, e := s.settle(v, err); e != nil {
		tb.Fatal(e)
	}
}

func TestSequencerTransformsAndReleasesInOrder(t *testing.T) {
	t.Parallel()
	s := newTestSequencer(t, testLimits(), "")
	a, b := origin{c: &recorder{}, connID: "a"}, origin{c: &recorder{}, connID: "b"}
	mustAdmit(t, s, a, opReq(t, "a:1", 0, `["x"]`))
	adm := s.admit(b, opReq(t, "b:1", 0, `["y"]`), t0) // stale: made against version 0
	if adm.kind != admitted || adm.ev.Version != 1 || adm.ev.Prev != "a:1" || adm.ev.Size != 2 {
		t.Fatalf("stale op: %+v", adm)
	}
	// The store answers the second first: nothing is released until the
	// first is in.
	settle(t, s, 1, nil)
	if outs := s.release(t0, nil); len(outs) != 0 {
		t.Fatalf("released %d before version 0 was answered", len(outs))
	}
	settle(t, s, 0, nil)
	outs := s.release(t0, nil)
	if len(outs) != 2 || outs[0].id != "a:1" || outs[1].id != "b:1" || outs[0].kind != outCommitted || outs[1].kind != outCommitted {
		t.Fatalf("outcomes %+v", outs)
	}
	if outs[1].from.connID != "b" || !strings.Contains(string(outs[1].frame), `"version":1`) {
		t.Fatalf("second outcome %+v frame %s", outs[1], outs[1].frame)
	}
	// The second op was transformed over the first, as the OT type does it.
	y, _ := document.Transform(opReq(t, "", 0, `["y"]`).Op, opReq(t, "", 0, `["x"]`).Op)
	want := document.NewText("x")
	if err := want.Apply(y); err != nil {
		t.Fatal(err)
	}
	if got := s.text.String(); s.version != 2 || s.pending() != 0 || got != want.String() {
		t.Fatalf("version %d pending %d text %q", s.version, s.pending(), got)
	}
	if s.hist.at(0).from.c != nil || s.hist.at(1).waiters != nil {
		t.Fatal("history keeps a connection after its op was answered")
	}
}

func TestSequencerRefusals(t *testing.T) {
	t.Parallel()
	lim := testLimits()
	lim.maxDocLen = 5
	tests := []struct {
		name string
		req  protocol.Request
		code protocol.Code
	}{
		{"ahead of the document", opReq(t, "c:1", 3, `["x"]`), protocol.CodeBadVersion},
		{"spans past the end", opReq(t, "c:1", 0, `[9,"x"]`), protocol.CodeInvalidOp},
		{"document over the limit", opReq(t, "c:1", 0, `["xxxx"]`), protocol.CodeTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSequencer(t, lim, "ab")
			a := s.admit(origin{}, tt.req, t0)
			if a.kind != rejected || a.err.Code != tt.code {
				t.Fatalf("kind %d err %v, want %s", a.kind, a.err, tt.code)
			}
			if s.pending() != 0 || s.text.String() != "ab" {
				t.Fatal("a refused op changed the state")
			}
		})
	}
}

func TestSequencerDuplicates(t *testing.T) {
	t.Parallel()
	s := newTestSequencer(t, testLimits(), "")
	first, resend := origin{connID: "a"}, origin{connID: "a2"}
	mustAdmit(t, s, first, opReq(t, "a:1", 0, `["x"]`))
	// A resend while it is pending waits for its commit.
	if a := s.admit(resend, opReq(t, "a:1", 0, `["x"]`), t0); a.kind != awaiting {
		t.Fatalf("pending resend: %+v", a)
	}
	settle(t, s, 0, nil)
	outs := s.release(t0, nil)
	if len(outs) != 1 || len(outs[0].waiters) != 1 || outs[0].waiters[0].connID != "a2" {
		t.Fatalf("outcome %+v", outs)
	}
	// A resend once committed is acked with its version, not applied again.
	if a := s.admit(resend, opReq(t, "a:1", 0, `["x"]`), t0); a.kind != ackNow || a.version != 0 {
		t.Fatalf("committed resend: %+v", a)
	}
	if s.text.String() != "x" {
		t.Fatalf("text %q", s.text.String())
	}
}

func TestSequencerFailedCommitFailsLaterOpsAndAsksForReload(t *testing.T) {
	t.Parallel()
	s := newTestSequencer(t, testLimits(), "")
	mustAdmit(t, s, origin{connID: "a"}, opReq(t, "a:1", 0, `["x"]`))
	mustAdmit(t, s, origin{connID: "a"}, opReq(t, "a:2", 1, `[1,"y"]`))
	down := errors.New("disk gone")
	settle(t, s, 0, down)
	outs := s.release(t0, nil)
	if len(outs) != 1 || outs[0].kind != outRefused || !errors.Is(outs[0].err, down) {
		t.Fatalf("outcomes %+v", outs)
	}
	if s.needsReload() {
		t.Fatal("reload asked for while an op is still pending")
	}
	settle(t, s, 1, nil) // durable, but memory is no longer the log
	outs = s.release(t0, nil)
	if len(outs) != 1 || outs[0].kind != outSilent {
		t.Fatalf("outcomes %+v", outs)
	}
	if !s.needsReload() || s.version != 0 {
		t.Fatalf("needsReload %v version %d", s.needsReload(), s.version)
	}
	if _, ok := s.ids["a:1"]; ok {
		t.Fatal("a failed op's id is still known: a resend would be acked")
	}
}

func TestSequencerCommitTimeout(t *testing.T) {
	t.Parallel()
	s := newTestSequencer(t, testLimits(), "")
	mustAdmit(t, s, origin{connID: "a"}, opReq(t, "a:1", 0, `["x"]`))
	if outs := s.release(t0.Add(999*time.Millisecond), nil); len(outs) != 0 {
		t.Fatalf("overdue before the timeout: %+v", outs)
	}
	outs := s.release(t0.Add(time.Second), nil)
	if len(outs) != 1 || outs[0].kind != outTimedOut || outs[0].id != "a:1" {
		t.Fatalf("outcomes %+v", outs)
	}
	if outs := s.release(t0.Add(2*time.Second), nil); len(outs) != 0 {
		t.Fatalf("told twice: %+v", outs)
	}
	if a := s.admit(origin{}, opReq(t, "b:1", 0, `["y"]`), t0); a.kind != rejected || a.err.Code != protocol.CodeUnavailable {
		t.Fatalf("a stalled document took an op: %+v", a)
	}
	// A resend of the told op cannot be answered yet.
	if a := s.admit(origin{}, opReq(t, "a:1", 0, `["x"]`), t0); a.kind != rejected {
		t.Fatalf("resend of an op of unknown outcome: %+v", a)
	}
	// The disk comes back: the op commits, its author was told already.
	settle(t, s, 0, nil)
	outs = s.release(t0.Add(3*time.Second), nil)
	if len(outs) != 1 || outs[0].kind != outCommitted || !outs[0].told || s.stalled {
		t.Fatalf("outcomes %+v stalled %v", outs, s.stalled)
	}
}

func TestSequencerOldBase(t *testing.T) {
	t.Parallel()
	lim := testLimits()
	lim.historyLen, lim.maxCatchUp = 2, 3
	s := newTestSequencer(t, lim, "")
	var stored []eventlog.Event
	for i, op := range []string{`["a"]`, `[1,"b"]`, `[2,"c"]`, `[3,"d"]`} {
		a := s.admit(origin{}, opReq(t, "w:"+string(rune('1'+i)), int64(i), op), t0)
		stored = append(stored, a.ev)
		settle(t, s, a.version, nil)
		s.release(t0, nil)
	}
	if s.hist.base != 2 || s.text.String() != "abcd" {
		t.Fatalf("base %d text %q", s.hist.base, s.text.String())
	}
	// An op made at version 1 ("a"): its base is before the window.
	req := opReq(t, "late:1", 1, `[1,"X"]`)
	a := s.admit(origin{}, req, t0)
	if a.kind != readLog || a.version != 2 || a.err != nil {
		t.Fatalf("admission %+v", a)
	}
	a = s.admitOld(origin{}, req, stored[1:2], t0)
	if a.kind != admitted || a.version != 4 {
		t.Fatalf("admitOld %+v", a)
	}
	settle(t, s, 4, nil)
	s.release(t0, nil)
	if got := s.text.String(); got != "aXbcd" && got != "abXcd" {
		t.Fatalf("text %q", got)
	}
	// Further behind than maxCatchUp: refused unless the room finds it
	// was a resend.
	if a := s.admit(origin{}, opReq(t, "late:2", 0, `["Y"]`), t0); a.kind != readLog || a.err == nil || a.err.Code != protocol.CodeBadVersion {
		t.Fatalf("too old: %+v", a)
	}
}

func TestSequencerApplyAndCatchUp(t *testing.T) {
	t.Parallel()
	s := newTestSequencer(t, testLimits(), "")
	for i, op := range []string{`["a"]`, `[1,"b"]`, `[2,"c"]`} {
		var o document.Op
		if err := o.UnmarshalJSON([]byte(op)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.apply(int64(i), "p:"+string(rune('1'+i)), "p", o, nil); err != nil {
			t.Fatal(err)
		}
	}
	if s.version != 3 || s.next != 3 || s.text.String() != "abc" {
		t.Fatalf("version %d next %d text %q", s.version, s.next, s.text.String())
	}
	frames, ok := s.catchUp(1, nil, 1<<20)
	if !ok || len(frames) != 2 || !strings.Contains(string(frames[0]), `"version":1`) {
		t.Fatalf("catch-up %q %v", frames, ok)
	}
	if _, ok := s.catchUp(1, nil, 10); ok {
		t.Fatal("a catch-up over its byte bound was served")
	}
	if _, err := s.apply(3, "p:9", "p", document.Op{{Retain: 9}}, nil); err == nil || !s.broken {
		t.Fatal("an event that does not apply left the sequencer usable")
	}
}

func TestSequencerSelections(t *testing.T) {
	t.Parallel()
	s := newTestSequencer(t, testLimits(), "abc")
	tests := []struct {
		name string
		peer protocol.Peer
		code protocol.Code // "" fits
	}{
		{"no selection", protocol.Peer{Session: "s"}, ""},
		{"inside the text", protocol.Peer{Session: "s", Selection: &protocol.Selection{Anchor: 1, Head: 3}}, ""},
		{"past the end", protocol.Peer{Session: "s", Selection: &protocol.Selection{Anchor: 4, Head: 4}}, protocol.CodeBadRequest},
		{"ahead of the document", protocol.Peer{Session: "s", Version: 1, Selection: &protocol.Selection{}}, protocol.CodeBadVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.checkSelection(tt.peer)
			switch {
			case tt.code == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.code != "" && (err == nil || err.Code != tt.code):
				t.Fatalf("got %v, want %s", err, tt.code)
			}
		})
	}
}

// BenchmarkSequencer is the sequencer's share of one op: admit a typing
// op made against the head, settle it, release it (text applied, frame
// encoded), with the history window full.
func BenchmarkSequencer(b *testing.B) {
	s := newTestSequencer(b, limits{maxDocLen: 1 << 30, maxCatchUp: 10000, historyLen: 1000, historyBytes: 8 << 20,
		maxPendingBytes: 16 << 20, snapshotEvery: 1 << 40, commitTimeout: time.Hour}, "")
	var outs []outcome
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = "bench:" + strconv.Itoa(i)
	}
	op := document.Op{{Insert: "x"}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a := s.admit(origin{}, protocol.Request{ID: ids[i], Version: s.version, Op: op}, t0)
		if _, err := s.settle(a.version, nil); err != nil {
			b.Fatal(err)
		}
		outs = s.release(t0, outs[:0])
	}
	if s.version != int64(b.N) {
		b.Fatalf("version %d after %d ops", s.version, b.N)
	}
}
