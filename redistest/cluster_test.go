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
