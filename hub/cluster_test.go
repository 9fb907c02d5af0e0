package hub_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/collabedit/collab/fanout"
	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/hub/hubtest"
	"github.com/collabedit/collab/internal/testrand"
	"github.com/collabedit/collab/lease"
	"github.com/collabedit/collab/presence"
)

// startPair runs two hubs as two processes would: each with its own handle
// on one log file, sharing a bus, leases and presence.
func startPair(t *testing.T) (a, b *testServer) {
	t.Helper()
	return startHubs(t, false)
}

// startHubs is startPair; with routed, each hub also advertises its URL in
// a shared directory, so either can send a routed client to the other.
func startHubs(t *testing.T, routed bool) (a, b *testServer) {
	t.Helper()
	return startHubsWith(t, func(c hub.Config) hub.Config {
		if routed {
			c.Directory = c.Leases.(hub.Directory)
		}
		return c
	})
}

// startHubsWith is startPair with each hub's config passed through edit.
func startHubsWith(t *testing.T, edit func(hub.Config) hub.Config) (a, b *testServer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	bus, leases, pres := fanout.NewMemory(), lease.NewMemory(500*time.Millisecond), presence.NewMemory()
	t.Cleanup(func() { _ = bus.Close() })
	cfg := func(id string) hub.Config {
		return edit(hub.Config{Bus: bus, Leases: leases, Presence: pres, ProcessID: id,
			ClusterTick: 20 * time.Millisecond, PositionCheck: 100 * time.Millisecond, ForwardRetry: 200 * time.Millisecond})
	}
	return hubtest.StartAt(t, path, cfg("a")), hubtest.StartAt(t, path, cfg("b"))
}

// TestTwoProcessesConverge: editors on two hubs edit one document; one hub
// owns it and the other forwards; all end equal to the shared log.
func TestTwoProcessesConverge(t *testing.T) {
	t.Parallel()
	seed := testrand.Seed(t)
	a, b := startPair(t)
	eds := runEditors(t, []string{a.URL, b.URL}, "shared", 6, 60, seed, func(rng *rand.Rand, _, _ int, e *editor) error {
		return randomEdit(rng, e.d)
	})
	text, version := waitConvergedOnSentOps(t, eds)
	checkServerAgrees(t, a, "shared", text, version)
	checkServerAgrees(t, b, "shared", text, version)
	if a.Hub.Stats().Forwarded+b.Hub.Stats().Forwarded == 0 {
		t.Fatal("no op was forwarded: both hubs sequenced the document")
	}
}

// TestOwnerTakeover: when the owner hub goes away, the other takes the
// document over once the lease expires, and editing goes on.
func TestOwnerTakeover(t *testing.T) {
	t.Parallel()
	a, b := startPair(t)
	ea := newEditor(t, a.URL, "d") // a loads first: a owns d
	eb := newEditor(t, b.URL, "d")
	if err := eb.d.Insert(0, "one "); err != nil {
		t.Fatal(err)
	}
	waitConverged(t, []*editor{ea, eb})
	if b.Hub.Stats().Forwarded == 0 {
		t.Fatal("b's op was not forwarded to the owner a")
	}
	_ = ea.c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// a shuts down (releasing its leases); b must take d over.
	if err := a.Hub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := eb.d.Insert(4, "two"); err != nil {
		t.Fatal(err)
	}
	if err := eb.d.WaitSynced(ctx); err != nil {
		t.Fatalf("edit after the owner left never acknowledged: %v", err)
	}
	if got := eb.d.Text(); got != "one two" {
		t.Fatalf("text %q", got)
	}
	if h := b.Head(t, "d"); h != 2 {
		t.Fatalf("log at version %d, want 2", h)
	}
}
