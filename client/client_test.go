package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/protocol"
)

// token returns a 6-character token; documents made only of token inserts
// at multiples of 6 always split into whole tokens.
func token(who byte, i int) string { return fmt.Sprintf("[%c%03d]", who, i) }

// insertToken inserts tok at a random token boundary of d's local text.
func insertToken(t *testing.T, d *Doc, rnd *rand.Rand, tok string) {
	t.Helper()
	n := utf8.RuneCountInString(d.Text()) / 6
	must(t, d.Insert(6*rnd.IntN(n+1), tok))
}

// checkTokens fails unless text is exactly the tokens of want, each once,
// in any order.
func checkTokens(t *testing.T, text string, want []string) {
	t.Helper()
	if len(text)%6 != 0 {
		t.Fatalf("text of %d bytes is not made of whole tokens: %q", len(text), text)
	}
	seen := make(map[string]int)
	for i := 0; i < len(text); i += 6 {
		seen[text[i:i+6]]++
	}
	for _, tok := range want {
		if seen[tok] != 1 {
			t.Errorf("token %s appears %d times", tok, seen[tok])
		}
		delete(seen, tok)
	}
	for tok, n := range seen {
		t.Errorf("unexpected token %q (%d times)", tok, n)
	}
}

func TestTwoClientsConverge(t *testing.T) {
	t.Parallel()
	ts := startServer(t, hub.Config{})
	ra, rb := newRecorder(), newRecorder()
	a, b := dial(t, ts, ra), dial(t, ts, rb)
	da, db := open(t, a, "notes"), open(t, b, "notes")
	if a.ID() == b.ID() || len(a.ID()) != 8 {
		t.Fatalf("client ids %q and %q", a.ID(), b.ID())
	}
	must(t, da.Insert(0, "hello"))
	must(t, db.Insert(0, "world"))
	must(t, da.Insert(5, " 😀"))
	text := converge(t, da, db)
	if !strings.Contains(text, "hello 😀") || !strings.Contains(text, "world") || utf8.RuneCountInString(text) != 12 {
		t.Fatalf("text %q lost an edit", text)
	}
	acks := ra.ackCount(t) + rb.ackCount(t)
	if got := ts.Head(t, "notes"); got != int64(acks) || da.Version() != got {
		t.Fatalf("stored version %d, acks %d, client version %d", got, acks, da.Version())
	}
	if ra.remoteCount() == 0 || rb.remoteCount() == 0 {
		t.Fatalf("OnRemote not called: a %d, b %d", ra.remoteCount(), rb.remoteCount())
	}
	// A third client sees the same text from its snapshot.
	if got := open(t, dial(t, ts, nil), "notes").Text(); got != text {
		t.Fatalf("fresh open sees %q, want %q", got, text)
	}
	if err := da.Insert(100, "x"); err == nil {
		t.Fatal("insert past the end accepted")
	}
}

func TestPipelining(t *testing.T) {
	t.Parallel()
	ts := startServer(t, hub.Config{})
	ra := newRecorder()
	a, b := dial(t, ts, ra), dial(t, ts, nil)
	da, db := open(t, a, "pipe"), open(t, b, "pipe")
	var want strings.Builder
	for i := range 200 {
		s := string(rune('a' + i%26))
		must(t, da.Insert(i, s))
		want.WriteString(s)
	}
	if got := converge(t, da, db); got != want.String() {
		t.Fatalf("text %q, want %q", got, want.String())
	}
	acks := ra.ackCount(t)
	if acks >= 200 || acks < 1 {
		t.Fatalf("%d ops sent for 200 inserts; want them composed", acks)
	}
	if got := ts.Head(t, "pipe"); got != int64(acks) {
		t.Fatalf("stored version %d, acks %d", got, acks)
	}
	t.Logf("200 inserts sent as %d ops", acks)
}

func TestReconnectWhileEditing(t *testing.T) {
	t.Parallel()
	ts := startServer(t, hub.Config{})
	ra, rb := newRecorder(), newRecorder()
	a, b := dial(t, ts, ra), dial(t, ts, rb)
	da, db := open(t, a, "cut"), open(t, b, "cut")
	const n = 120
	var want []string
	var wg sync.WaitGroup
	for _, w := range []struct {
		c   *Client
		d   *Doc
		who byte
	}{{a, da, 'a'}, {b, db, 'b'}} {
		for i := range n {
			want = append(want, token(w.who, i))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w.who), 1))
			drops := 0
			for i := range n {
				insertToken(t, w.d, rnd, token(w.who, i))
				if i%30 == 15 && w.d.Pending() {
					w.c.Drop() // mid-edit: an op is in flight or buffered
					drops++
				}
				time.Sleep(time.Duration(rnd.IntN(1000)) * time.Microsecond) // a typist's pace, not a wait
			}
			if drops == 0 {
				t.Errorf("client %c never dropped with edits pending", w.who)
			}
		}()
	}
	wg.Wait()
	text := converge(t, da, db)
	checkTokens(t, text, want)
	acks := ra.ackCount(t) + rb.ackCount(t)
	if got := ts.Head(t, "cut"); got != int64(acks) || got != da.Version() {
		t.Fatalf("stored version %d, acks %d, client version %d", got, acks, da.Version())
	}
	if !a.Connected() || !b.Connected() {
		t.Fatal("not reconnected")
	}
}

// TestSnapshotRebase cuts a client off while it has an op in flight and
// more buffered, lets another client make 20 ops, and reconnects it to a
// hub that keeps too little history to catch it up: it gets a snapshot and
// must find out whether its op was applied, then rebase the rest.
func TestSnapshotRebase(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		history int
		cut     func(*faults)
		applied bool // the op reaches the server before the cut
	}{
		{"applied-before-cut", 5, func(f *faults) { f.dropReads.Store(true) }, true},
		{"never-arrived", 5, func(f *faults) { f.dropWrites.Store(true) }, false},
		{"applied-by-probe", 100, func(f *faults) { f.dropWrites.Store(true) }, false},
		// Control: with enough history the reopen is a plain catch-up.
		{"catch-up-not-arrived", 0, func(f *faults) { f.dropWrites.Store(true) }, false},
		{"catch-up-applied", 0, func(f *faults) { f.dropReads.Store(true) }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := hub.Config{HistoryLen: tc.history, MaxCatchUp: 5}
			if tc.history == 0 {
				cfg.MaxCatchUp = 0 // defaults: catch-up served
			}
			ts := startServer(t, cfg)
			f := &faults{}
			ra, rb := newRecorder(), newRecorder()
			a := dial(t, ts, ra, func(c *Config) { c.Dialer = f.dialer() })
			b := dial(t, ts, rb)
			da, db := open(t, a, "snap"), open(t, b, "snap")
			rnd := rand.New(rand.NewPCG(7, 7))
			want := []string{token('a', 0)}
			must(t, da.Insert(0, token('a', 0)))
			converge(t, da, db)

			tc.cut(f)
			insertToken(t, da, rnd, token('a', 1)) // in flight
			if tc.applied {
				poll.Until(t, "the server to apply a1", func() bool { return strings.Contains(db.Text(), token('a', 1)) })
			} else {
				// a1 is written, and swallowed, before a2 is typed.
				poll.Until(t, "a1 to be sent into the void", func() bool { return f.dropped.Load() > 0 })
			}
			insertToken(t, da, rnd, token('a', 2)) // buffered
			f.down.Store(true)
			a.Drop()
			poll.Until(t, "the drop", func() bool { return !a.Connected() })
			f.dropReads.Store(false)
			f.dropWrites.Store(false)
			insertToken(t, da, rnd, token('a', 3)) // made offline
			want = append(want, token('a', 1), token('a', 2), token('a', 3))
			for i := range 20 { // one op each: 21 versions behind a
				insertToken(t, db, rnd, token('b', i))
				want = append(want, token('b', i))
				converge(t, db)
			}
			f.down.Store(false)

			text := converge(t, da, db)
			checkTokens(t, text, want)
			acks := ra.ackCount(t) + rb.ackCount(t)
			if got := ts.Head(t, "snap"); got != int64(acks) {
				dumpLog(t, ts, "snap", ra, rb)
				t.Fatalf("stored version %d, acks %d", got, acks)
			}
			da.mu.Lock()
			probes, resyncs := da.probes, da.resyncs
			da.mu.Unlock()
			if probes == 0 && tc.history != 0 || probes != 0 && tc.history == 0 {
				t.Fatal("reopen did not go through the snapshot probe")
			}
			t.Logf("probes %d, resync requests %d, acks %d", probes, resyncs, acks)
		})
	}
}

// TestRefusedOp: an op the server refuses for good is dropped, reported,
// and the edits made after it survive.
func TestRefusedOp(t *testing.T) {
	t.Parallel()
	ts := startServer(t, hub.Config{MaxDocLen: 10})
	ra := newRecorder()
	a, b := dial(t, ts, ra), dial(t, ts, nil)
	da, db := open(t, a, "small"), open(t, b, "small")
	must(t, da.Insert(0, "hello"))
	converge(t, da, db)
	must(t, da.Insert(5, " there, world")) // 18 > 10: too_large
	must(t, da.Insert(0, ">"))             // buffered behind it
	if got := converge(t, da, db); got != ">hello" {
		t.Fatalf("text %q, want %q", got, ">hello")
	}
	errs := ra.errors()
	var pe *protocol.Error
	if len(errs) != 1 || !errors.As(errs[0], &pe) || pe.Code != protocol.CodeTooLarge {
		t.Fatalf("OnError got %v, want one too_large", errs)
	}
	if got := ts.Head(t, "small"); got != int64(ra.ackCount(t)) {
		t.Fatalf("stored version %d, acks %d", got, ra.ackCount(t))
	}
}

func dumpLog(t *testing.T, ts *testServer, doc string, recs ...*recorder) {
	t.Helper()
	evs, err := ts.Store.Events(context.Background(), doc, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		t.Logf("v%d %s %s", e.Version, e.OpID, e.Op)
	}
	for i, r := range recs {
		r.mu.Lock()
		t.Logf("recorder %d acks %v", i, r.acks)
		r.mu.Unlock()
	}
}

// TestCloseStopsEverything: Close returns only after the client's
// goroutines are gone, also in the middle of reconnecting. Not parallel:
// it counts the client goroutines of the whole process.
func TestCloseStopsEverything(t *testing.T) {
	ts := startServer(t, hub.Config{})
	f := &faults{}
	c := dial(t, ts, nil, func(c *Config) { c.Dialer = f.dialer() })
	d := open(t, c, "bye")
	must(t, d.Insert(0, "x"))
	f.down.Store(true)
	c.Drop()
	poll.Until(t, "the drop", func() bool { return !c.Connected() })
	must(t, c.Close())
	if err := c.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second close: %v", err)
	}
	if err := d.Insert(0, "y"); !errors.Is(err, ErrClosed) {
		t.Fatalf("insert after close: %v", err)
	}
	// Close waited for every goroutine's WaitGroup.Done; one may still be
	// returning from the deferred Done under load (seen once in a full
	// suite run), so allow it a second. A goroutine Close failed to stop —
	// the reconnect loop here never ends by itself — is still caught.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if !poll.Wait(ctx, func() bool { return clientGoroutines() == 0 }) {
		t.Fatalf("%d client goroutines still running after Close", clientGoroutines())
	}
}

// clientGoroutines counts goroutines running a method of this package
// (the server's and the test's own goroutines do not).
func clientGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "collab/client.(*") && !strings.Contains(g, "client.Test") {
			n++
		}
	}
	return n
}

// TestDialRefusesLongClientID: a client id that would make op ids longer
// than the server accepts is refused at Dial, not op by op.
func TestDialRefusesLongClientID(t *testing.T) {
	t.Parallel()
	ts := startServer(t, hub.Config{})
	_, err := Dial(context.Background(), Config{URL: ts.URL, ClientID: strings.Repeat("a", 108)})
	if err == nil || !strings.Contains(err.Error(), "client id") {
		t.Fatalf("Dial with a 108-byte client id: %v", err)
	}
	c := dial(t, ts, nil, func(c *Config) { c.ClientID = strings.Repeat("a", 107) })
	d := open(t, c, "long-id")
	must(t, d.Insert(0, "x"))
	converge(t, d)
}

// TestDeletedDocument: a rename reaches the client as OnLifecycle and
// leaves the text alone; a delete stops the Doc for good with ErrDeleted,
// reported once: Edit and WaitSynced return it, nothing is resent, and a
// later Open is refused with it too.
func TestDeletedDocument(t *testing.T) {
	t.Parallel()
	ts := startServer(t, hub.Config{})
	ra := newRecorder()
	a := dial(t, ts, ra)
	da := open(t, a, "doomed")
	must(t, da.Insert(0, "text"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	must(t, da.WaitSynced(ctx))
	if _, err := ts.Hub.Lifecycle(ctx, "doomed", "x:0", protocol.Lifecycle{Kind: protocol.LifecycleRename, Title: "Q3 plans"}, hub.Submitter{}); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "the rename", func() bool { return da.Version() == 2 })
	if da.Text() != "text" {
		t.Fatalf("text %q after the rename", da.Text())
	}
	if _, err := ts.Hub.Lifecycle(ctx, "doomed", "x:1", protocol.Lifecycle{Kind: protocol.LifecycleDelete}, hub.Submitter{}); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "the client to stop", func() bool { return errors.Is(da.Insert(0, "late"), ErrDeleted) })
	if err := da.WaitSynced(ctx); !errors.Is(err, ErrDeleted) {
		t.Fatalf("WaitSynced after the delete: %v", err)
	}
	var deleted int
	for _, err := range ra.errors() {
		if errors.Is(err, ErrDeleted) {
			deleted++
		}
	}
	if deleted != 1 {
		t.Fatalf("OnError got %v, want ErrDeleted once", ra.errors())
	}
	ra.mu.Lock()
	lives := strings.Join(ra.lives, "; ")
	ra.mu.Unlock()
	if lives != "1 rename Q3 plans; 2 delete " {
		t.Fatalf("OnLifecycle got %q, want the rename at 1, then the delete at 2", lives)
	}
	b := dial(t, ts, nil)
	if _, err := b.Open(ctx, "doomed"); !errors.Is(err, ErrDeleted) {
		t.Fatalf("Open of the deleted document: %v", err)
	}
}
