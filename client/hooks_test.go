package client

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/collabedit/collab/fanout"
	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/hub/hubtest"
	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/lease"
	"github.com/collabedit/collab/presence"
)

// expectViolations fails unless OnOrderViolation reported exactly want.
func (m *machine) expectViolations(want ...OrderViolation) {
	m.t.Helper()
	got := m.rec.violations()
	if len(got) != len(want) {
		m.t.Fatalf("violations %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			m.t.Fatalf("violation %d is %v, want %v", i, got[i], want[i])
		}
	}
}

// TestOrderViolations: every frame breaking §6 is reported, and the
// repeats §6.2 allows while a document is re-served are not.
func TestOrderViolations(t *testing.T) {
	t.Parallel()
	t.Run("duplicate op", func(t *testing.T) {
		t.Parallel()
		m := newMachine(t)
		m.recv(`{"type":"op","doc":"d","version":3,"id":"x:1","op":["a"]}`)
		m.recv(`{"type":"op","doc":"d","version":3,"id":"x:1","op":["a"]}`)
		m.expectViolations(OrderViolation{Kind: "op", ID: "x:1", Got: 3, Want: 4})
		m.text("ahello") // ignored, as before
	})
	t.Run("gap", func(t *testing.T) {
		t.Parallel()
		m := newMachine(t)
		m.recv(`{"type":"op","doc":"d","version":5,"id":"x:1","op":["a"]}`)
		m.expectViolations(OrderViolation{Kind: "op", ID: "x:1", Got: 5, Want: 3})
		m.expect("open", -1) // resynchronises, as before
	})
	t.Run("ack out of order", func(t *testing.T) {
		t.Parallel()
		m := newMachine(t)
		must(t, m.d.Insert(0, "<"))
		m.expect("op", 3)
		m.recv(`{"type":"ack","doc":"d","id":"me:1","version":5}`)
		m.expectViolations(OrderViolation{Kind: "ack", ID: "me:1", Got: 5, Want: 3})
	})
	t.Run("opened elsewhere", func(t *testing.T) {
		t.Parallel()
		m := newMachine(t)
		m.d.detach(m.s)
		m.s = fakeSession()
		m.d.attach(m.s)
		m.expect("open", 3)
		m.recv(`{"type":"opened","doc":"d","version":5}`)
		m.expectViolations(OrderViolation{Kind: "opened", Got: 5, Want: 3})
	})
	t.Run("catch-up repeats on a new connection", func(t *testing.T) {
		t.Parallel()
		m := newMachine(t)
		m.d.detach(m.s)
		m.s = fakeSession()
		m.d.attach(m.s)
		m.expect("open", 3)
		m.recv(`{"type":"op","doc":"d","version":2,"id":"x:1","op":["a"]}`)
		m.expectViolations(OrderViolation{Kind: "op", ID: "x:1", Got: 2, Want: 3})
	})
	t.Run("snapshot back in time", func(t *testing.T) {
		t.Parallel()
		m := newMachine(t)
		m.recv(`{"type":"snapshot","doc":"d","version":2,"text":"hell"}`)
		m.expectViolations(OrderViolation{Kind: "snapshot", Got: 2, Want: 3})
	})
	t.Run("re-served document", func(t *testing.T) {
		t.Parallel()
		m := newMachine(t)
		must(t, m.d.Insert(0, "<"))
		m.expect("op", 3)
		m.recv(`{"type":"error","doc":"d","id":"me:1","code":"bad_version","message":"x"}`)
		m.expect("open", 3)
		// A live op queued before the server took the open, then the
		// catch-up from 3 repeating it: allowed (§6.2).
		m.recv(`{"type":"op","doc":"d","version":3,"id":"x:1","op":["a"]}`)
		m.recv(`{"type":"op","doc":"d","version":3,"id":"x:1","op":["a"]}`)
		m.recv(`{"type":"opened","doc":"d","version":4}`)
		m.expect("op", 4)
		m.expectViolations()
	})
}

// TestConnectionHooks: OnConnect and OnDisconnect pair up, a drop is
// reported with its network error and Close with ErrClosed.
func TestConnectionHooks(t *testing.T) {
	t.Parallel()
	ts := startServer(t, hub.Config{})
	rec := newRecorder()
	c := dial(t, ts, rec)
	open(t, c, "hooks")
	c.Drop()
	poll.Until(t, "the reconnect", func() bool {
		calls, _ := rec.connections()
		return len(calls) == 3 && c.Connected()
	})
	must(t, c.Close())
	calls, drops := rec.connections()
	want := []string{"connect " + ts.URL, "disconnect " + ts.URL, "connect " + ts.URL, "disconnect " + ts.URL}
	if len(calls) != len(want) {
		t.Fatalf("hook calls %q, want %q", calls, want)
	}
	for i := range want {
		if calls[i] != want[i] {
			t.Fatalf("hook calls %q, want %q", calls, want)
		}
	}
	if drops[0] == nil || errors.Is(drops[0], ErrMoved) || errors.Is(drops[0], ErrClosed) {
		t.Fatalf("the drop was reported as %v, want the socket's error", drops[0])
	}
	if !errors.Is(drops[1], ErrClosed) {
		t.Fatalf("Close was reported as %v, want ErrClosed", drops[1])
	}
}

// TestConnectionHooksMoved: leaving a process to follow "moved" is
// reported with ErrMoved, then the connection to the owner.
func TestConnectionHooksMoved(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	bus, leases, pres := fanout.NewMemory(), lease.NewMemory(time.Second), presence.NewMemory()
	t.Cleanup(func() { _ = bus.Close() })
	cfg := func(id string) hub.Config {
		return hub.Config{Bus: bus, Leases: leases, Directory: leases, Presence: pres, ProcessID: id,
			ClusterTick: 20 * time.Millisecond}
	}
	owner, other := hubtest.StartAt(t, path, cfg("a")), hubtest.StartAt(t, path, cfg("b"))
	open(t, dial(t, owner, nil), "routed") // the owner takes the lease
	rec := newRecorder()
	c := dial(t, other, rec, func(cfg *Config) { cfg.FollowOwner = true })
	open(t, c, "routed")
	calls, drops := rec.connections()
	want := []string{"connect " + other.URL, "disconnect " + other.URL, "connect " + owner.URL}
	if len(calls) != len(want) || calls[0] != want[0] || calls[1] != want[1] || calls[2] != want[2] {
		t.Fatalf("hook calls %q, want %q", calls, want)
	}
	if !errors.Is(drops[0], ErrMoved) {
		t.Fatalf("the move was reported as %v, want ErrMoved", drops[0])
	}
}
