package hub_test

import (
	"testing"

	"github.com/collabedit/collab/hub"
)

// TestPresenceSurvivesStaleConnection: a client reconnects and restates its
// presence before its old connection is cleaned up; the cleanup must not
// remove the session the new connection holds.
func TestPresenceSurvivesStaleConnection(t *testing.T) {
	s := startServer(t, hub.Config{})
	old, cur, watcher := dial(t, s.URL), dial(t, s.URL), dial(t, s.URL)
	for _, c := range []*wsClient{old, cur} {
		c.open("d")
		c.send(`{"type":"presence","doc":"d","session":"s1","name":"Ann"}`)
	}
	watcher.send(`{"type":"open","doc":"d","presence":true}`)
	watcher.expect("snapshot")
	if r := watcher.expect("roster"); len(r.Peers) != 1 || r.Peers[0].Session != "s1" {
		t.Fatalf("roster %+v, want s1", r.Peers)
	}
	_ = old.ws.Close()
	eventually(t, "the old connection to be cleaned up", func() bool { return s.Hub.Stats().Connections == 2 })
	watcher.send(`{"type":"close","doc":"d"}`)
	watcher.send(`{"type":"open","doc":"d","presence":true}`)
	for {
		m := watcher.read()
		if m.Type != "roster" {
			continue // the left/presence pair sent around the cleanup, the snapshot
		}
		if len(m.Peers) != 1 || m.Peers[0].Session != "s1" || m.Peers[0].Name != "Ann" {
			t.Fatalf("after the stale connection left, roster is %+v; s1 is still connected", m.Peers)
		}
		return
	}
}
