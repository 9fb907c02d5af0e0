package redistest

import (
	"strings"
	"testing"
	"time"
)

// TestClusterFailover: a 3-master cluster with a replica each comes up
// healthy, and after its master of a key is killed, that key's slot is
// served by the promoted replica.
func TestClusterFailover(t *testing.T) {
	t.Parallel()
	c := StartCluster(t, 3, 1)
	if len(c.Nodes()) != 6 || !strings.HasPrefix(c.URL(), "redis+cluster://127.0.0.1:") {
		t.Fatalf("%d nodes, URL %q", len(c.Nodes()), c.URL())
	}
	m := c.MasterOf("{doc}")
	// Replication is asynchronous: WAIT until the replica has the write,
	// or a replica promoted before it arrived rightly lacks it.
	if got, err := commands(m.Addr(), []string{"SET", "{doc}", "v"}, []string{"WAIT", "1", "1500"}); err != nil || got[0] != "OK" || got[1] != "1" {
		t.Fatalf("SET and WAIT on its master: %q, %v", got, err)
	}
	start := time.Now()
	old := c.KillMasterOf("{doc}")
	if old != m {
		t.Fatalf("killed %s, master was %s", old.Addr(), m.Addr())
	}
	c.WaitFailover("{doc}", old)
	t.Logf("failover took %v", time.Since(start).Round(time.Millisecond))
	n := c.MasterOf("{doc}")
	if n == old {
		t.Fatal("slot still served by the killed master")
	}
	if got, err := command(n.Addr(), "GET", "{doc}"); err != nil || got != "v" {
		t.Fatalf("GET on the promoted replica: %q, %v", got, err)
	}
}

// TestMoveSlot: MoveSlotOf moves a slot with its keys to another master;
// the key is then served there, and the old master redirects to it.
func TestMoveSlot(t *testing.T) {
	t.Parallel()
	c := StartCluster(t, 3, 1)
	from := c.MasterOf("{doc}")
	for i := range 5 {
		if _, err := command(from.Addr(), "SET", "{doc}:"+itoa(i), "v"+itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	var to *Server
	for _, m := range c.Masters() {
		if m != from {
			to = m
			break
		}
	}
	if got := c.MoveSlotOf("{doc}", to, 200*time.Millisecond); got != from {
		t.Fatalf("MoveSlotOf returned %s, the master was %s", got.Addr(), from.Addr())
	}
	if m := c.MasterOf("{doc}"); m != to {
		t.Fatalf("slot served by %s after the move, want %s", m.Addr(), to.Addr())
	}
	for i := range 5 {
		if got, err := command(to.Addr(), "GET", "{doc}:"+itoa(i)); err != nil || got != "v"+itoa(i) {
			t.Fatalf("GET {doc}:%d on the new master: %q, %v", i, got, err)
		}
	}
	if _, err := command(from.Addr(), "GET", "{doc}:0"); err == nil || !strings.Contains(err.Error(), "MOVED") {
		t.Fatalf("GET on the old master: %v, want MOVED", err)
	}
}
