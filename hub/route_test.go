package hub_test

import (
	"context"
	"testing"
	"time"

	"github.com/collabedit/collab/client"
)

// TestRoutedOpen: on the process that does not own a document, an open
// that asks for routing gets "moved" with the owner's URL and is not
// served; one that does not ask (every v1 client) is served as before.
func TestRoutedOpen(t *testing.T) {
	t.Parallel()
	a, b := startHubs(t, true)
	owner := dial(t, a.URL)
	owner.open("d") // a loads d first, so a owns it
	owner.send(`{"type":"op","doc":"d","version":0,"id":"o:1","op":["x"]}`)
	owner.expect("ack")

	c := dial(t, b.URL)
	c.send(`{"type":"open","doc":"d","route":true}`)
	m := c.expect("moved")
	if m.Doc != "d" || m.URL != a.URL {
		t.Fatalf("moved %+v, want doc d and url %s", m, a.URL)
	}
	// Not opened: an op on it is refused.
	c.send(`{"type":"op","doc":"d","version":1,"id":"c:1","op":[1,"y"]}`)
	c.expectError("not_open")

	// Without "route" the same process serves it (v1 behaviour).
	if snap := c.open("d"); snap.Text != "x" || snap.Version != 1 {
		t.Fatalf("unrouted open on the follower: %+v", snap)
	}
	// Now that b has the document loaded, its room answers routed opens.
	c2 := dial(t, b.URL)
	c2.send(`{"type":"open","doc":"d","route":true}`)
	if m := c2.expect("moved"); m.URL != a.URL {
		t.Fatalf("moved from a loaded follower: %+v", m)
	}
	// On the owner a routed open is served.
	o2 := dial(t, a.URL)
	o2.send(`{"type":"open","doc":"d","route":true}`)
	if snap := o2.expect("snapshot"); snap.Text != "x" {
		t.Fatalf("routed open on the owner: %+v", snap)
	}
	if n := b.Hub.Stats().Redirects; n != 2 {
		t.Fatalf("%d redirects counted on b, want 2", n)
	}
	// A process routing a document nobody holds takes it itself.
	c.send(`{"type":"open","doc":"fresh","route":true}`)
	if snap := c.expect("snapshot"); snap.Doc != "fresh" {
		t.Fatalf("routed open of an unowned document: %+v", snap)
	}
}

// TestClientFollowsOwner: clients that accept routing and dial the
// follower end up on the owner, so none of their ops is forwarded; when
// the owner goes away they reconnect, the follower takes the document
// over, and editing goes on with nothing lost.
func TestClientFollowsOwner(t *testing.T) {
	t.Parallel()
	a, b := startHubs(t, true)
	first := newEditor(t, a.URL, "d") // a owns d
	eds := []*editor{first}
	for range 3 {
		eds = append(eds, newEditorCfg(t, client.Config{URL: b.URL, FollowOwner: true, ReconnectMax: 200 * time.Millisecond}, "d"))
	}
	for i, e := range eds {
		if err := e.d.Insert(0, string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
	}
	waitConverged(t, eds)
	if n := b.Hub.Stats().Forwarded; n != 0 {
		t.Fatalf("%d ops forwarded by b: its routed clients were not moved to the owner", n)
	}
	if n := b.Hub.Stats().Redirects; n != 3 {
		t.Fatalf("%d redirects on b, want 3", n)
	}

	// The owner shuts down: the moved clients lose their connection, fail
	// to reach a, go back to b, and b takes the lease over.
	_ = first.c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Hub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	rest := eds[1:]
	for _, e := range rest {
		if err := e.d.Insert(0, "+"); err != nil {
			t.Fatal(err)
		}
	}
	text, version := waitConverged(t, rest)
	if version != 7 {
		t.Fatalf("version %d, want 7 (4 + 3 ops)", version)
	}
	checkServerAgrees(t, b, "d", text, version)
}
