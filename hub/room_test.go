package hub

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/fanout"
	"github.com/collabedit/collab/protocol"
)

// These tests drive a room from the test's goroutine, standing in for the
// room's own, with recorders as its subscribers: no socket, a real log.

func newTestRoom(tb testing.TB, cfg Config) *room {
	tb.Helper()
	store, err := eventlog.Open(filepath.Join(tb.TempDir(), "log.db"), eventlog.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	h := New(store, cfg)
	tb.Cleanup(func() {
		if err := h.Close(context.Background()); err != nil {
			tb.Error(err)
		}
		_ = store.Close()
	})
	r := newRoom(&h.node, "d")
	if err := r.reload(); err != nil {
		tb.Fatal(err)
	}
	return r
}

// openRoom subscribes a new recorder, as connection id, to r.
func openRoom(tb testing.TB, r *room, id string, presence bool) (*recorder, origin) {
	tb.Helper()
	rec := &recorder{}
	o := origin{c: rec, proc: r.n.id, connID: id, at: time.Now()}
	r.handle(command{kind: cmdOpen, from: o, req: protocol.Request{Type: protocol.TypeOpen, Doc: "d", Presence: presence}})
	if len(rec.frames) == 0 || !strings.Contains(rec.frames[0], `"snapshot"`) {
		tb.Fatalf("open: %q", rec.frames)
	}
	return rec, o
}

// commitAll waits for the store's answers and releases them.
func commitAll(tb testing.TB, r *room) {
	tb.Helper()
	for r.seq.pending() > 0 {
		select {
		case <-r.results.wake:
			r.released(r.results.take(nil), time.Now())
		case <-time.After(10 * time.Second):
			tb.Fatalf("%d commits unanswered", r.seq.pending())
		}
	}
}

func last(rec *recorder) string {
	if len(rec.frames) == 0 {
		return ""
	}
	return rec.frames[len(rec.frames)-1]
}

func TestRoomSequencesCommitsThenBroadcasts(t *testing.T) {
	t.Parallel()
	r := newTestRoom(t, Config{})
	a, ao := openRoom(t, r, "a", false)
	b, _ := openRoom(t, r, "b", false)
	r.handle(command{kind: cmdOp, from: ao, req: opReq(t, "a:1", 0, `["hi"]`)})
	if len(a.frames) != 1 || len(b.frames) != 1 {
		t.Fatalf("something was sent before the commit: %q %q", a.frames, b.frames)
	}
	commitAll(t, r)
	if got := last(a); !strings.Contains(got, `"ack"`) || !strings.Contains(got, `"a:1"`) {
		t.Fatalf("author got %q", got)
	}
	if got := last(b); !strings.Contains(got, `"type":"op"`) || !strings.Contains(got, `"hi"`) {
		t.Fatalf("reader got %q", got)
	}
	// A client that left is not sent anything more.
	r.handle(command{kind: cmdLeave, from: ao})
	r.handle(command{kind: cmdOp, from: ao, req: opReq(t, "a:2", 1, `[2,"!"]`)})
	if len(a.errs) != 1 || a.errs[0].Code != protocol.CodeNotOpen {
		t.Fatalf("op after leaving: %+v", a.errs)
	}
}

func TestRoomPresenceGoesToWatchersOnly(t *testing.T) {
	t.Parallel()
	r := newTestRoom(t, Config{})
	a, ao := openRoom(t, r, "a", true)
	b, _ := openRoom(t, r, "b", true)
	v1, _ := openRoom(t, r, "v1", false) // a v1 client: never sees presence
	r.handle(command{kind: cmdPresence, from: ao, req: protocol.Request{Type: protocol.TypePresence, Doc: "d",
		Peer: protocol.Peer{Session: "s-a", Name: "Ann", Selection: &protocol.Selection{}}}})
	if got := last(b); !strings.Contains(got, `"presence"`) || !strings.Contains(got, `"Ann"`) {
		t.Fatalf("watcher got %q", got)
	}
	if strings.Contains(last(a), `"Ann"`) || len(v1.frames) != 1 {
		t.Fatalf("sent to its own session or to a v1 client: %q %q", a.frames, v1.frames)
	}
	// Another connection cannot take the session over.
	_, bo := openRoom(t, r, "b2", true)
	r.handle(command{kind: cmdPresence, from: bo, req: protocol.Request{Type: protocol.TypePresence, Doc: "d",
		Peer: protocol.Peer{Session: "s-a", Name: "Mallory"}}})
	if rec := bo.c.(*recorder); len(rec.errs) != 1 || rec.errs[0].Code != protocol.CodeForbidden || rec.errs[0].Session != "s-a" {
		t.Fatalf("session takeover: %+v", rec.errs)
	}
	r.handle(command{kind: cmdLeave, from: ao})
	if got := last(b); !strings.Contains(got, `"left"`) {
		t.Fatalf("watcher got %q after the peer left", got)
	}
}

// TestRoomFollowerForwardsAndAcksOnEvent: a room following another
// process forwards its client's op and acks it when the owner's event
// comes back, delivering it to the others.
func TestRoomFollowerForwardsAndAcksOnEvent(t *testing.T) {
	t.Parallel()
	r := newTestRoom(t, Config{Bus: fanout.NewMemory()})
	now := time.Now()
	r.own.ask(now)
	if tr := r.own.answer("p2", nil, now, now); tr != followed {
		t.Fatalf("transition %v", tr)
	}
	a, ao := openRoom(t, r, "a", false)
	b, _ := openRoom(t, r, "b", false)
	r.handle(command{kind: cmdOp, from: ao, req: opReq(t, "a:1", 0, `["x"]`)})
	if r.seq.pending() != 0 || r.fol.fwd["a:1"] == nil {
		t.Fatalf("not forwarded: pending %d, forwards %v", r.seq.pending(), r.fol.fwd)
	}
	r.onBus(&busMsg{Kind: msgEvent, Doc: "d", Version: 0, ID: "a:1", Author: "a", Op: []byte(`["x"]`), Owner: "p2"})
	if got := last(a); !strings.Contains(got, `"ack"`) {
		t.Fatalf("author got %q", got)
	}
	if got := last(b); !strings.Contains(got, `"a:1"`) || len(r.fol.fwd) != 0 || r.seq.text.String() != "x" {
		t.Fatalf("reader got %q, forwards %v, text %q", got, r.fol.fwd, r.seq.text.String())
	}
	// A gap (version 2 while at 1) is filled from the log, not applied.
	r.onBus(&busMsg{Kind: msgEvent, Doc: "d", Version: 2, ID: "c:1", Op: []byte(`["z"]`), Owner: "p2"})
	if r.seq.version != 1 {
		t.Fatalf("applied across a gap: version %d", r.seq.version)
	}
}
