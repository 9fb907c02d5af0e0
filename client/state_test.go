package client

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/protocol"
)

// machine drives one Doc's state machine directly: frames "from the
// server" go to handle, frames the Doc sends are read back from a fake
// session's outbox.
type machine struct {
	t   *testing.T
	d   *Doc
	s   *session
	rec *recorder
}

type sent struct {
	Type    string          `json:"type"`
	Version *int64          `json:"version"`
	ID      string          `json:"id"`
	Op      json.RawMessage `json:"op"`
}

func fakeSession() *session {
	return &session{ctx: context.Background(), out: outbox{wake: make(chan struct{}, 1)}}
}

// newMachine returns a Doc open at version 3 with text "hello".
func newMachine(t *testing.T) *machine {
	t.Helper()
	rec := newRecorder()
	cfg := Config{URL: "ws://unused", ClientID: "me", ReconnectMin: time.Millisecond, ReconnectMax: time.Millisecond}
	rec.hook(&cfg)
	cfg.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{cfg: cfg, log: cfg.Logger, ctx: ctx, cancel: cancel, docs: make(map[string]*Doc)}
	t.Cleanup(func() { _ = c.Close() })
	d := newDoc(c, "d")
	c.docs["d"] = d
	m := &machine{t: t, d: d, s: fakeSession(), rec: rec}
	d.attach(m.s)
	m.expect("open", -1)
	m.recv(`{"type":"snapshot","doc":"d","version":3,"text":"hello"}`)
	return m
}

func (m *machine) recv(frame string) {
	m.t.Helper()
	msg, err := protocol.DecodeMessage([]byte(frame))
	if err != nil {
		m.t.Fatal(err)
	}
	m.d.handle(m.s, msg)
}

// expect checks the next frame sent: its type and version (-1: none).
func (m *machine) expect(typ string, version int64) sent {
	m.t.Helper()
	frames := m.s.out.take(nil)
	if len(frames) == 0 {
		m.t.Fatalf("nothing sent, want %s", typ)
	}
	for _, f := range frames[1:] {
		m.s.out.push(f)
	}
	var f sent
	if err := json.Unmarshal(frames[0], &f); err != nil {
		m.t.Fatal(err)
	}
	got := int64(-1)
	if f.Version != nil {
		got = *f.Version
	}
	if f.Type != typ || got != version {
		m.t.Fatalf("sent %s, want %s at version %d", frames[0], typ, version)
	}
	return f
}

func (m *machine) expectNothing() {
	m.t.Helper()
	if frames := m.s.out.take(nil); len(frames) != 0 {
		m.t.Fatalf("unexpected frame %s", frames[0])
	}
}

func (m *machine) text(want string) {
	m.t.Helper()
	if got := m.d.Text(); got != want {
		m.t.Fatalf("text %q, want %q", got, want)
	}
}

func TestStateRemoteOpsAndGaps(t *testing.T) {
	t.Parallel()
	m := newMachine(t)
	must(t, m.d.Insert(5, "!"))
	m.expect("op", 3)
	m.recv(`{"type":"op","doc":"d","version":3,"id":"x:1","op":[">"]}`)
	m.recv(`{"type":"op","doc":"d","version":3,"id":"x:1","op":[">"]}`) // duplicate: ignored
	m.text(">hello!")
	m.recv(`{"type":"op","doc":"d","version":9,"id":"x:2","op":["?"]}`) // gap: resync
	m.expect("open", -1)
	m.recv(`{"type":"ack","doc":"d","id":"me:1","version":4}`) // applied; snapshot will contain it
	m.recv(`{"type":"snapshot","doc":"d","version":10,"text":">hello! X"}`)
	m.text(">hello! X")
	if m.d.Pending() || m.d.Version() != 10 || m.rec.ackCount(t) != 1 {
		t.Fatalf("pending %v version %d acks %d", m.d.Pending(), m.d.Version(), m.rec.ackCount(t))
	}
}

func TestStateReconnectOwnOpInCatchUp(t *testing.T) {
	t.Parallel()
	m := newMachine(t)
	must(t, m.d.Insert(5, "!"))
	m.expect("op", 3)
	must(t, m.d.Insert(0, ">")) // buffered
	m.expectNothing()
	m.d.detach(m.s)
	m.s = fakeSession()
	m.d.attach(m.s)
	m.expect("open", 3)
	m.recv(`{"type":"op","doc":"d","version":3,"id":"me:1","op":[5,"!"]}`) // our own op: the ack
	m.recv(`{"type":"opened","doc":"d","version":4}`)
	f := m.expect("op", 4)
	if f.ID != "me:2" || string(f.Op) != `[">"]` {
		t.Fatalf("buffer sent as %s %s", f.ID, f.Op)
	}
	m.recv(`{"type":"ack","doc":"d","id":"me:1","version":3}`) // late duplicate: ignored
	m.recv(`{"type":"ack","doc":"d","id":"me:2","version":4}`)
	m.text(">hello!")
	if m.d.Pending() || m.d.Version() != 5 || m.rec.ackCount(t) != 2 {
		t.Fatalf("pending %v version %d acks %d", m.d.Pending(), m.d.Version(), m.rec.ackCount(t))
	}
}

func TestStateResendAfterReopen(t *testing.T) {
	t.Parallel()
	m := newMachine(t)
	must(t, m.d.Insert(0, "a"))
	m.expect("op", 3)
	m.recv(`{"type":"error","doc":"d","id":"me:1","code":"bad_version","message":"x"}`)
	m.expect("open", 3)
	m.recv(`{"type":"op","doc":"d","version":3,"id":"x:1","op":["b"]}`)
	m.recv(`{"type":"opened","doc":"d","version":4}`)
	f := m.expect("op", 4) // same id, transformed: our insert goes first
	if f.ID != "me:1" || string(f.Op) != `["a"]` {
		t.Fatalf("resent %s %s", f.ID, f.Op)
	}
	m.recv(`{"type":"error","doc":"d","id":"me:1","code":"unavailable","message":"x"}`)
	poll.Until(t, "the retry", func() bool {
		m.s.out.mu.Lock()
		defer m.s.out.mu.Unlock()
		return len(m.s.out.frames) > 0
	})
	f = m.expect("op", 4) // retried after the backoff
	if f.ID != "me:1" {
		t.Fatalf("retry with id %s", f.ID)
	}
	m.text("abhello")
}

func TestStateRefusedOp(t *testing.T) {
	t.Parallel()
	m := newMachine(t)
	must(t, m.d.Insert(5, " world"))
	m.expect("op", 3)
	must(t, m.d.Insert(0, ">"))
	m.recv(`{"type":"error","doc":"d","id":"me:1","code":"invalid_op","message":"no"}`)
	m.text(">hello") // undone at once, later edit kept
	m.expect("open", -1)
	errs := m.rec.errors()
	var pe *protocol.Error
	if len(errs) != 1 || !errors.As(errs[0], &pe) || pe.Code != protocol.CodeInvalidOp {
		t.Fatalf("OnError got %v", errs)
	}
	m.recv(`{"type":"snapshot","doc":"d","version":4,"text":"hello?"}`)
	m.text(">hello?")
	if f := m.expect("op", 4); f.ID != "me:2" || string(f.Op) != `[">"]` {
		t.Fatalf("rebased buffer sent as %s %s", f.ID, f.Op)
	}
}

// TestStateProbe: a snapshot while an op is in flight resends the op with
// its original base; the answer decides how the edits are rebased.
func TestStateProbe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, answer, want string
	}{
		// The snapshot holds "<": the remote delete removes it; ">" wins
		// the tie with the snapshot's "! there" (pending inserts go first).
		{"applied-before", `{"type":"ack","doc":"d","id":"me:1","version":3}`, "hello>! there"},
		// "<" is rebased as a new op; the remote delete removes the "h".
		{"not-applied", `{"type":"error","doc":"d","id":"me:1","code":"bad_version","message":"x"}`, "<ello>! there"},
		// "<" is dropped for good, ">" kept.
		{"refused", `{"type":"error","doc":"d","id":"me:1","code":"invalid_op","message":"x"}`, "ello>! there"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newMachine(t)
			must(t, m.d.Insert(0, "<"))
			m.expect("op", 3)
			must(t, m.d.Insert(6, ">"))
			snap := "hello! there" // contains "<" only if applied-before
			if tc.name == "applied-before" {
				snap = "<hello! there"
			}
			m.recv(`{"type":"snapshot","doc":"d","version":8,"text":"` + snap + `"}`)
			if f := m.expect("op", 3); f.ID != "me:1" || string(f.Op) != `["<"]` {
				t.Fatalf("probe %s %s", f.ID, f.Op)
			}
			m.recv(`{"type":"op","doc":"d","version":8,"id":"x:1","op":[-1]}`) // queued during the probe
			m.recv(tc.answer)
			m.text(tc.want)
			f := m.expect("op", 9)
			if f.ID != "me:2" {
				t.Fatalf("rebased edits sent as %s", f.ID)
			}
			if m.d.Version() != 9 {
				t.Fatalf("version %d", m.d.Version())
			}
		})
	}
}

func TestStateProbeAppliedNow(t *testing.T) {
	t.Parallel()
	m := newMachine(t)
	must(t, m.d.Insert(0, "<"))
	m.expect("op", 3)
	m.recv(`{"type":"snapshot","doc":"d","version":8,"text":"hello there"}`)
	m.expect("op", 3)
	m.recv(`{"type":"ack","doc":"d","id":"me:1","version":8}`) // applied only now
	m.expect("open", -1)
	m.recv(`{"type":"op","doc":"d","version":8,"id":"me:1","op":["<"]}`) // ignored while resyncing
	m.recv(`{"type":"snapshot","doc":"d","version":9,"text":"<hello there"}`)
	m.text("<hello there")
	m.expectNothing()
	if m.d.Pending() || m.rec.ackCount(t) != 1 {
		t.Fatalf("pending %v, acks %d", m.d.Pending(), m.rec.ackCount(t))
	}
}
