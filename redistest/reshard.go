package redistest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MoveSlotOf moves the hash slot of key, with its keys, from the master
// serving it to the master to, as redis-cli --cluster reshard does, and
// returns the old master. The slot stays in the migrating state for
// about hold (its keys moved one at a time, spread over it), so clients
// working on the slot meanwhile are redirected with ASK and TRYAGAIN, as
// in a resharding of a large slot; then every master is told the new
// owner and MoveSlotOf waits until every live node sees it. The old
// master drops the slot's sharded subscribers with an unasked
// "sunsubscribe". It may run on a goroutine of its own while the test
// checks clients meanwhile; a failure then ends that goroutine only (the
// test is marked failed).
func (c *Cluster) MoveSlotOf(key string, to *Server, hold time.Duration) *Server {
	c.tb.Helper()
	from := c.MasterOf(key)
	if from == to {
		c.tb.Fatalf("redistest: %s already serves the slot of %q", to.Addr(), key)
	}
	slot := c.must(from.Addr(), "CLUSTER", "KEYSLOT", key)
	fromID, toID := c.must(from.Addr(), "CLUSTER", "MYID"), c.must(to.Addr(), "CLUSTER", "MYID")
	c.must(to.Addr(), "CLUSTER", "SETSLOT", slot, "IMPORTING", fromID)
	c.must(from.Addr(), "CLUSTER", "SETSLOT", slot, "MIGRATING", toID)
	host, port, _ := strings.Cut(to.Addr(), ":")
	deadline := time.Now().Add(hold)
	for {
		keys := c.must(from.Addr(), "CLUSTER", "GETKEYSINSLOT", slot, "1")
		if keys == "" {
			break
		}
		c.must(from.Addr(), "MIGRATE", host, port, keys, "0", strconv.Itoa(int(commandTimeout/time.Millisecond)))
		time.Sleep(min(time.Until(deadline), hold/10)) // the slot half-moved, on purpose
	}
	time.Sleep(time.Until(deadline))
	// The target first, then the source, then the other masters, as the
	// Redis Cluster specification orders it: a client redirected by any
	// of them is sent to a node that already serves the slot.
	order := []*Server{to, from}
	for _, n := range c.live() {
		if n != to && n != from && c.isMaster(n) {
			order = append(order, n)
		}
	}
	for _, n := range order {
		c.must(n.Addr(), "CLUSTER", "SETSLOT", slot, "NODE", toID)
	}
	c.wait(fmt.Sprintf("slot %s of %q served by %s on every node", slot, key, to.Addr()), func() error {
		for _, n := range c.live() {
			addr, err := slotMaster(n.Addr(), key)
			if err != nil {
				return err
			}
			if addr != to.Addr() {
				return fmt.Errorf("%s sees %s as the slot's master", n.Addr(), addr)
			}
		}
		return c.healthy()
	})
	return from
}

// Masters returns the live nodes that are masters now.
func (c *Cluster) Masters() []*Server {
	c.tb.Helper()
	var out []*Server
	for _, n := range c.live() {
		if c.isMaster(n) {
			out = append(out, n)
		}
	}
	return out
}

func (c *Cluster) isMaster(n *Server) bool {
	c.tb.Helper()
	info := c.must(n.Addr(), "INFO", "replication")
	return strings.Contains(info, "role:master")
}

// must runs one command on addr and fails the test on an error.
func (c *Cluster) must(addr string, args ...string) string {
	c.tb.Helper()
	r, err := command(addr, args...)
	if err != nil {
		c.tb.Fatalf("redistest: %s: %v", strings.Join(args, " "), err)
	}
	return r
}
