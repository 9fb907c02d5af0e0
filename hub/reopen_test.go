package hub_test

import (
	"sync/atomic"
	"testing"

	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/protocol"
)

// deafBus is a bus whose subscribers can be made to miss messages, as a
// process misses what a dying owner published last.
type deafBus struct {
	hub.Bus
	deaf atomic.Bool
}

func (b *deafBus) Subscribe(channel string, fn func([]byte)) (func(), error) {
	return b.Bus.Subscribe(channel, func(msg []byte) {
		if msg != nil && b.deaf.Load() {
			return
		}
		fn(msg)
	})
}

// TestReopenAheadOfFollower: a client that saw versions this process has
// not heard of (it was served by the owner, whose last events never
// reached this process's room) reopens here with its version. The room
// reads what it missed from the log and answers "opened" at the client's
// version, continuing its stream. Before, it answered a snapshot at its
// own, older version, sending the client back in time (protocol §6; seen
// in cmd/server TestCluster/process_killed as "snapshot at version 107,
// expected 108").
func TestReopenAheadOfFollower(t *testing.T) {
	t.Parallel()
	var bBus *deafBus
	a, b := startHubsWith(t, func(c hub.Config) hub.Config {
		if c.ProcessID == "b" {
			bBus = &deafBus{Bus: c.Bus}
			c.Bus = bBus
		}
		return c
	})
	writer := dial(t, a.URL)
	writer.open("d") // a loads first: a owns d
	writer.send(opFrame("d", 0, "w:1", "one "))
	writer.expect(protocol.TypeAck)
	watcher := dial(t, b.URL) // b's room follows d at version 1
	if m := watcher.open("d"); m.Version != 1 {
		t.Fatalf("b serves d at version %d, want 1", m.Version)
	}
	bBus.deaf.Store(true) // b misses what a publishes from now on
	writer.send(opFrame("d", 1, "w:2", "two "))
	writer.expect(protocol.TypeAck)
	writer.send(opFrame("d", 2, "w:3", "three "))
	writer.expect(protocol.TypeAck)

	late := dial(t, b.URL)
	late.send(`{"type":"open","doc":"d","version":3}`)
	if m := late.read(); m.Type != protocol.TypeOpened || m.Version != 3 {
		t.Fatalf("reopen at version 3 on the process that missed 2 and 3: got %s at version %d, want opened at 3", m.Type, m.Version)
	}
	// The room caught up, so its other subscriber got the missed ops, in
	// order.
	for v := int64(1); v < 3; v++ {
		if m := watcher.expect(protocol.TypeOp); m.Version != v {
			t.Fatalf("watcher got op at version %d, want %d", m.Version, v)
		}
	}
}
