package hub_test

import (
	"testing"

	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/protocol"
)

// TestPresenceSessionBoundToConnection: a presence session belongs to the
// connection that claimed it. Another connection cannot move, rename or
// remove it (forbidden); once the holder leaves, a reconnecting client
// takes it, and the old connection's cleanup does not remove it.
func TestPresenceSessionBoundToConnection(t *testing.T) {
	t.Parallel()
	s := startServer(t, hub.Config{})
	old, cur, watcher := dial(t, s.URL), dial(t, s.URL), dial(t, s.URL)
	old.open("d")
	cur.open("d")
	old.send(`{"type":"presence","doc":"d","session":"s1","name":"Ann"}`)
	watcher.send(`{"type":"open","doc":"d","presence":true}`)
	watcher.expect("snapshot")
	if r := watcher.expect("roster"); len(r.Peers) == 0 {
		// old's presence was handled after the roster was sent
		if m := watcher.expect("presence"); m.Peer == nil || m.Peer.Session != "s1" {
			t.Fatalf("got %+v, want Ann as s1", m)
		}
	} else if len(r.Peers) != 1 || r.Peers[0].Session != "s1" || r.Peers[0].Name != "Ann" {
		t.Fatalf("roster %+v, want Ann as s1", r.Peers)
	}
	cur.send(`{"type":"presence","doc":"d","session":"s1","name":"Mallory"}`)
	if e := cur.expectError(protocol.CodeForbidden); e.Doc != "d" {
		t.Fatalf("refusal %+v does not name the document", e)
	}
	_ = old.ws.Close()
	poll.Until(t, "the old connection to be cleaned up", func() bool { return s.Hub.Stats().Connections == 2 })
	if m := watcher.expect("left"); m.Session != "s1" {
		t.Fatalf("got %+v, want s1 to leave", m)
	}
	cur.send(`{"type":"presence","doc":"d","session":"s1","name":"Ann"}`)
	if m := watcher.expect("presence"); m.Peer == nil || m.Peer.Session != "s1" || m.Peer.Name != "Ann" {
		t.Fatalf("got %+v, want Ann back as s1", m)
	}
	watcher.send(`{"type":"close","doc":"d"}`)
	watcher.send(`{"type":"open","doc":"d","presence":true}`)
	watcher.expect("snapshot")
	if m := watcher.expect("roster"); len(m.Peers) != 1 || m.Peers[0].Name != "Ann" {
		t.Fatalf("roster %+v; s1 is still connected", m.Peers)
	}
}

// TestPresenceSelectionValidated: a selection must fit the text at the
// version it names, and that version must exist.
func TestPresenceSelectionValidated(t *testing.T) {
	t.Parallel()
	s := startServer(t, hub.Config{HistoryLen: 2})
	c, watcher := dial(t, s.URL), dial(t, s.URL)
	c.send(`{"type":"open","doc":"d","presence":true}`)
	c.expect("snapshot")
	c.expect("roster")
	for i, op := range []string{`["hello"]`, `[5," world"]`, `[11,"!"]`, `[12,"?"]`} {
		c.send(`{"type":"op","doc":"d","version":` + itoa(i) + `,"id":"c:` + itoa(i) + `","op":` + op + `}`)
		c.expect("ack")
	}
	watcher.send(`{"type":"open","doc":"d","presence":true}`)
	watcher.expect("snapshot")
	watcher.expect("roster")
	tests := []struct {
		sel     string
		version int
		code    protocol.Code // "" accepted
	}{
		{`{"anchor":0,"head":13}`, 4, ""},                      // the whole text at 4
		{`{"anchor":0,"head":14}`, 4, protocol.CodeBadRequest}, // past the end
		{`{"anchor":12,"head":12}`, 3, ""},                     // at 3 the text has 12 characters
		{`{"anchor":13,"head":0}`, 3, protocol.CodeBadRequest},
		{`{"anchor":0,"head":0}`, 5, protocol.CodeBadVersion}, // a future version
		{`{"anchor":0,"head":0}`, 0, protocol.CodeBadVersion}, // older than the history kept
	}
	for _, tt := range tests {
		c.send(`{"type":"presence","doc":"d","session":"s","version":` + itoa(tt.version) + `,"selection":` + tt.sel + `}`)
		if tt.code != "" {
			c.expectError(tt.code)
			continue
		}
		if m := watcher.expect("presence"); m.Peer == nil || m.Peer.Version != int64(tt.version) {
			t.Fatalf("selection %s at %d: watcher got %+v", tt.sel, tt.version, m)
		}
	}
}
