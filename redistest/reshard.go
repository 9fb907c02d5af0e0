package redistest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/collabedit/collab/internal/poll"
)

// MoveSlotOf moves the hash slot of key, with its keys, from the master
// serving it to the master to, as redis-cli --cluster reshard does, and
// returns the old master; see MoveSlot. It fails the test on an error,
// so it must run on the test's goroutine; use MoveSlot on another one.
func (c *Cluster) MoveSlotOf(key string, to *Server, hold time.Duration) *Server {
	c.tb.Helper()
	from, err := c.MoveSlot(key, to, hold)
	if err != nil {
		c.tb.Fatalf("redistest: %v", err)
	}
	return from
}

// MoveSlot moves the hash slot of key, with its keys, from the master
// serving it to the master to, and returns the old master. The slot stays
// in the migrating state for about hold (its keys moved one at a time,
// spread over it), so clients working on the slot meanwhile are
// redirected with ASK and TRYAGAIN, as in a resharding of a large slot;
// then every master is told the new owner, and MoveSlot waits until every
// live node sees it. The old master drops the slot's sharded subscribers
// with an unasked "sunsubscribe". It does not touch the test, so it may
// run on a goroutine of its own; the whole move is bounded by
// clusterReadyTimeout plus hold.
func (c *Cluster) MoveSlot(key string, to *Server, hold time.Duration) (*Server, error) {
	live := c.live()
	if len(live) == 0 {
		return nil, errors.New("move slot: no live node")
	}
	fromAddr, err := slotMaster(live[0].Addr(), key)
	if err != nil {
		return nil, fmt.Errorf("move slot of %q: %w", key, err)
	}
	var from *Server
	for _, n := range c.nodes {
		if n.Addr() == fromAddr {
			from = n
		}
	}
	if from == nil || from == to {
		return nil, fmt.Errorf("move slot of %q: served by %s, asked to move it to %s", key, fromAddr, to.Addr())
	}
	if err := c.migrateSlot(key, from, to, hold); err != nil {
		return from, fmt.Errorf("move slot of %q from %s to %s: %w", key, from.Addr(), to.Addr(), err)
	}
	return from, nil
}

// migrateSlot runs the steps of the Redis Cluster specification's live
// resharding: IMPORTING on the target, MIGRATING on the source, MIGRATE
// of every key, then SETSLOT NODE on the target, the source and the
// other masters, in that order, so that a client redirected by any of
// them is sent to a node that already serves the slot.
func (c *Cluster) migrateSlot(key string, from, to *Server, hold time.Duration) error {
	deadline := time.Now().Add(hold + clusterReadyTimeout)
	slot, err := command(from.Addr(), "CLUSTER", "KEYSLOT", key)
	if err != nil {
		return err
	}
	fromID, err := command(from.Addr(), "CLUSTER", "MYID")
	if err != nil {
		return err
	}
	toID, err := command(to.Addr(), "CLUSTER", "MYID")
	if err != nil {
		return err
	}
	if _, err := command(to.Addr(), "CLUSTER", "SETSLOT", slot, "IMPORTING", fromID); err != nil {
		return err
	}
	if _, err := command(from.Addr(), "CLUSTER", "SETSLOT", slot, "MIGRATING", toID); err != nil {
		return err
	}
	host, port, _ := strings.Cut(to.Addr(), ":")
	// MIGRATE's own timeout stays below commandTimeout, the read deadline
	// of its reply, so a slow target is reported as Redis's IOERR rather
	// than as a cut connection.
	migrateMs := strconv.Itoa(int(commandTimeout / 2 / time.Millisecond))
	holdUntil := time.Now().Add(hold)
	for {
		if time.Now().After(deadline) {
			return fmt.Errorf("slot %s still holds keys after %v", slot, hold+clusterReadyTimeout)
		}
		k, err := command(from.Addr(), "CLUSTER", "GETKEYSINSLOT", slot, "1")
		if err != nil {
			return err
		}
		if k == "" {
			break
		}
		if _, err := command(from.Addr(), "MIGRATE", host, port, k, "0", migrateMs); err != nil {
			return err
		}
		time.Sleep(min(time.Until(holdUntil), hold/10)) // the slot half-moved, on purpose
	}
	time.Sleep(time.Until(holdUntil))
	order := []*Server{to, from}
	for _, n := range c.live() {
		if n == to || n == from {
			continue
		}
		info, err := command(n.Addr(), "INFO", "replication")
		if err != nil {
			return err
		}
		if strings.Contains(info, "role:master") {
			order = append(order, n)
		}
	}
	for _, n := range order {
		if _, err := command(n.Addr(), "CLUSTER", "SETSLOT", slot, "NODE", toID); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	var last error
	if !poll.Wait(ctx, func() bool { last = c.sees(key, to); return last == nil }) {
		return fmt.Errorf("not every node sees the move: %v", last)
	}
	return nil
}

// sees reports why not every live node sees to as the master of key's
// slot in a healthy cluster, or nil.
func (c *Cluster) sees(key string, to *Server) error {
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
}

// Masters returns the live nodes that are masters now.
func (c *Cluster) Masters() []*Server {
	c.tb.Helper()
	var out []*Server
	for _, n := range c.live() {
		if strings.Contains(c.must(n.Addr(), "INFO", "replication"), "role:master") {
			out = append(out, n)
		}
	}
	return out
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
