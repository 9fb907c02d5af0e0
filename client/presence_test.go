package client

import (
	"context"
	"testing"
	"time"

	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/protocol"
)

// TestPresenceFollowsTheText: a's caret moves with b's insert before it,
// and after a's next ack its presence is stated again at the new version.
func TestPresenceFollowsTheText(t *testing.T) {
	t.Parallel()
	ts := startServer(t, hub.Config{})
	a, b := dial(t, ts, nil), dial(t, ts, nil)
	da, db := open(t, a, "p"), open(t, b, "p")
	must(t, da.Insert(0, "hello"))
	converge(t, da, db)
	must(t, da.SetPresence("Ann", "#e91e63", &protocol.Selection{Anchor: 5, Head: 5}))
	waitPeer(t, db, func(p protocol.Peer) bool { return p.Selection != nil && p.Selection.Head == 5 })

	must(t, db.Insert(0, "XX"))
	converge(t, da, db)
	must(t, da.Insert(7, "!"))
	converge(t, da, db)
	waitPeer(t, db, func(p protocol.Peer) bool {
		return p.Selection != nil && p.Selection.Head == 7 && p.Version == da.Version()
	})
}

func waitPeer(t *testing.T, d *Doc, ok func(protocol.Peer) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		if ps := d.Peers(); len(ps) == 1 && ok(ps[0]) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("peer never matched: %+v", d.Peers())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// TestPresenceWithEditsPending: a selection set while local edits are not
// yet acknowledged is stated on the server's text at our version, which
// is what the server checks it against; placed at the end of a local
// insert the server has not applied yet, it would be past the end.
func TestPresenceWithEditsPending(t *testing.T) {
	t.Parallel()
	ts := startServer(t, hub.Config{})
	rec := newRecorder()
	a, b := dial(t, ts, rec), dial(t, ts, nil)
	da, db := open(t, a, "p"), open(t, b, "p")
	must(t, da.Insert(0, "hello"))
	converge(t, da, db)
	for i := 0; i < 20; i++ {
		must(t, da.Insert(0, "0123456789"))
		end := len([]rune(da.Text()))
		must(t, da.SetPresence("Ann", "#e91e63", &protocol.Selection{Anchor: end, Head: end}))
	}
	converge(t, da, db)
	end := len([]rune(da.Text()))
	waitPeer(t, db, func(p protocol.Peer) bool { return p.Selection != nil && p.Selection.Head == end })
	if errs := rec.errors(); len(errs) > 0 {
		t.Fatalf("presence refused: %v", errs)
	}
}

// TestPresenceWaitsForOldConnection: a client whose previous connection
// still holds its presence session (the server binds sessions to
// connections) is refused with forbidden, says nothing to the
// application, and gets its presence through once the old connection is
// gone.
func TestPresenceWaitsForOldConnection(t *testing.T) {
	t.Parallel()
	ts := startServer(t, hub.Config{})
	rec := newRecorder()
	sameID := func(c *Config) { c.ClientID = "ann" }
	old, cur, watcher := dial(t, ts, nil, sameID), dial(t, ts, rec, sameID), dial(t, ts, nil)
	dOld, dCur, dw := open(t, old, "p"), open(t, cur, "p"), open(t, watcher, "p")
	must(t, dOld.SetPresence("Ann (old tab)", "#e91e63", nil))
	waitPeer(t, dw, func(p protocol.Peer) bool { return p.Name == "Ann (old tab)" })
	for i := 0; i < 10; i++ {
		must(t, dCur.SetPresence("Ann", "#e91e63", nil))
	}
	// 2.5 s of the refusals and their resends (one a second): the time
	// under test, not a wait for anything.
	time.Sleep(2500 * time.Millisecond)
	if ps := dw.Peers(); len(ps) != 1 || ps[0].Name != "Ann (old tab)" {
		t.Fatalf("a second connection took over the session: %+v", ps)
	}
	// Ten refusals, then one resend a second: not one chain per refusal.
	if n := ts.Hub.Stats().Refusals[protocol.CodeForbidden]; n > 13 {
		t.Fatalf("%d presence refusals in 2.5 s: resends pile up", n)
	}
	must(t, old.Close())
	waitPeer(t, dw, func(p protocol.Peer) bool { return p.Name == "Ann" })
	if errs := rec.errors(); len(errs) > 0 {
		t.Fatalf("the refusal reached the application: %v", errs)
	}
}
