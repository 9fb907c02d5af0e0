package fanout

import (
	"context"
	"time"
)

// repairCheck is how long after trying to re-create a slot's connection
// the repair goroutine checks that Redis confirmed every channel, and
// tries again if not. The first try usually finds go-redis's slot map
// stale and asks for a reload, which takes a round trip to one node (plus
// go-redis's 200 ms cooldown between reloads), so 500 ms is enough for
// the second try to succeed: a planned failover costs the subscribers
// ~0.5 s of messages, recovered from the log after fn(nil).
const repairCheck = 500 * time.Millisecond

// dropped handles a "sunsubscribe" that the bus did not ask for. Redis
// sends one to every sharded subscriber of a slot that a node stops
// serving: its master handed over to a replica (CLUSTER FAILOVER, a
// planned maintenance) or the slot moved to another master
// (resharding). go-redis does not subscribe again by itself, since the
// connection is alive, so the repair goroutine re-creates the slot's
// connection, which go-redis opens to the slot's current master.
func (r *Redis) dropped(channel string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.chans[channel]
	if c == nil || r.closed {
		return // our own SUNSUBSCRIBE, or closing
	}
	c.live = false
	r.pending[slot(channel)] = true
	select {
	case r.repairWake <- struct{}{}:
	default:
	}
	r.log.Info().Str("channel", channel).Msg("fanout: redis dropped a sharded subscription; subscribing again")
}

// repairLoop is the repair goroutine of a bus on a cluster, started by
// NewRedis and stopped by Close. It re-creates the connections of the
// pending slots, and repairCheck later puts back in pending those whose
// channels Redis has not all confirmed.
func (r *Redis) repairLoop() {
	defer close(r.repairDone)
	check := time.NewTimer(repairCheck)
	check.Stop()
	defer check.Stop()
	for {
		select {
		case <-r.repairStop:
			return
		case <-r.repairWake:
		case <-check.C:
			r.requeueUnconfirmed()
		}
		r.mu.Lock()
		slots := make([]int, 0, len(r.pending))
		for s := range r.pending {
			slots = append(slots, s)
			delete(r.pending, s)
			r.repaired[s] = true
		}
		r.mu.Unlock()
		for _, s := range slots {
			r.reconnect(s)
		}
		if len(slots) > 0 {
			check.Reset(repairCheck)
		}
	}
}

// requeueUnconfirmed moves the repaired slots with a channel not yet
// confirmed back to pending, and forgets the others.
func (r *Redis) requeueUnconfirmed() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, c := range r.chans {
		if s := r.connKey(name); r.repaired[s] && !c.live {
			r.pending[s] = true
		}
	}
	clear(r.repaired)
}

// freshSlotMap reports whether the master go-redis's cached slot map names
// for slot s (of channel) still serves it, by that node's own account.
// Asking the node itself matters: right after a CLUSTER FAILOVER the
// other nodes may not have heard yet, and one of them (which is what
// go-redis's keyless CLUSTER SLOTS asks) would confirm the stale map, so
// the bus subscribed again on the old master, now a replica (1 run in 4
// of TestRedisClusterHandover before this); the old master itself knows
// at once that it no longer serves the slot.
func (r *Redis) freshSlotMap(ctx context.Context, s int, channel string) bool {
	cached, err := r.cluster.MasterForKey(ctx, channel)
	if err != nil {
		return false
	}
	slots, err := cached.ClusterSlots(ctx).Result()
	if err != nil {
		return false
	}
	for _, sl := range slots {
		if sl.Start <= s && s <= sl.End && len(sl.Nodes) > 0 {
			return sl.Nodes[0].Addr == cached.Options().Addr
		}
	}
	return false
}

// reconnect replaces the connection of slot s by a new one subscribed to
// every channel of s that has local subscribers.
func (r *Redis) reconnect(s int) {
	r.cmdMu.Lock()
	defer r.cmdMu.Unlock()
	r.mu.Lock()
	closed := r.closed
	var chans []string
	for name := range r.chans {
		if r.connKey(name) == s {
			chans = append(chans, name)
		}
	}
	r.mu.Unlock()
	if closed || len(chans) == 0 {
		return
	}
	ctx, done := context.WithTimeout(context.Background(), subscribeTimeout)
	defer done()
	if !r.freshSlotMap(ctx, s, chans[0]) {
		// go-redis would connect to the node that dropped us, now a
		// replica, which accepts sharded subscribers but loses their
		// messages while it resyncs. The check after repairCheck tries
		// again, with the slot map reloaded by then.
		r.cluster.ReloadState(ctx)
		return
	}
	if old := r.conns[s]; old != nil {
		delete(r.conns, s)
		_ = old.ps.Close() // ends its loop
	}
	// One SSUBSCRIBE for all: they share the slot. A failure is retried
	// after repairCheck, since no confirmation comes.
	if err := r.subscribe(ctx, chans...); err != nil {
		r.log.Warn().Err(err).Int("slot", s).Msg("fanout: redis resubscribe failed; will retry")
	}
}
