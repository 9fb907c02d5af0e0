package fanout

import (
	"context"

	"time"

	"github.com/redis/go-redis/v9"
)

// repairCheck is how long after trying to subscribe a slot again the
// repair goroutine checks that Redis confirmed every channel, and tries
// again if not. The first try usually finds go-redis's slot map stale and
// asks for a reload, which takes a round trip to one node (plus
// go-redis's 200 ms cooldown between reloads), so 500 ms is enough for
// the second try to succeed: a planned failover costs the subscribers
// ~0.5 s of messages, recovered from the log after fn(nil).
const repairCheck = 500 * time.Millisecond

// repairGap spaces the repair goroutine's rounds: a node that refuses
// every SSUBSCRIBE (NOPERM, CLUSTERDOWN) would otherwise have it subscribe
// again as fast as the refusals come back (~15,000 times a second on
// loopback); 100 ms delays the second of two events that close together
// by as much, and the first not at all.
const repairGap = 100 * time.Millisecond

// dropped handles a "sunsubscribe" that the bus did not ask for. Redis
// sends one to every sharded subscriber of a slot that a node stops
// serving: its master handed over to a replica (CLUSTER FAILOVER, a
// planned maintenance) or the slot moved to another master
// (resharding). The connection is fine, so the repair goroutine
// subscribes the slot's channels again, on the slot's current master.
func (r *Redis) dropped(channel string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.chans[channel]
	if c == nil || r.closed {
		return // our own SUNSUBSCRIBE, or closing
	}
	c.live = false
	r.pendLocked(slot(channel))
	// Sampled: a failover drops every channel of a master at once.
	r.notice.Info().Str("channel", channel).Msg("fanout: redis dropped a sharded subscription; subscribing again")
}

// shardLost hands the slots of a sharded connection that died to the
// repair goroutine: their channels are not live until Redis confirms them
// again, wherever they are served by then.
func (r *Redis) shardLost(slots []int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(slots) == 0 || r.closed {
		return
	}
	lost := make(map[int]bool, len(slots))
	for _, s := range slots {
		lost[s] = true
		r.pendLocked(s)
	}
	for name, c := range r.chans {
		if r.sharded(name) && lost[slot(name)] {
			c.live = false
		}
	}
}

// requeueNotLive hands every slot that of accepts and that has a sharded
// channel not yet confirmed to the repair goroutine.
func (r *Redis) requeueNotLive(of func(slot int) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, c := range r.chans {
		if r.sharded(name) && !c.live && of(slot(name)) {
			r.pendLocked(slot(name))
		}
	}
}

// repairLoop is the repair goroutine of a bus on a cluster, started by
// NewRedis and stopped by Close. It subscribes the pending slots again,
// and repairCheck later puts back in pending those whose channels Redis
// has not all confirmed.
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
		if len(slots) > 0 {
			r.resubscribe(slots)
			check.Reset(repairCheck)
			select {
			case <-r.repairStop:
				return
			case <-time.After(repairGap):
			}
		}
	}
}

// requeueUnconfirmed moves the repaired slots with a channel not yet
// confirmed back to pending, and forgets the others.
func (r *Redis) requeueUnconfirmed() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, c := range r.chans {
		if r.sharded(name) && r.repaired[slot(name)] && !c.live {
			r.pending[slot(name)] = true
		}
	}
	clear(r.repaired)
}

// servedBy returns the slots that node serves as a master, by its own
// account. Asking the node itself matters: right after a CLUSTER
// FAILOVER the other nodes may not have heard yet, and one of them (which
// is what go-redis's keyless CLUSTER SLOTS asks) would confirm the stale
// map, so the bus subscribed again on the old master, now a replica (1
// run in 4 of TestRedisClusterHandover before this); the old master
// itself knows at once that it no longer serves the slot.
//
// The node is recognised by its id (CLUSTER MYID), not its address:
// go-redis rewrites the addresses of its slot map (a loopback host seen
// from a remote seed, TLS ports), which CLUSTER SLOTS does not.
func servedBy(ctx context.Context, node *redis.Client) (func(s int) bool, error) {
	id, err := node.ClusterMyID(ctx).Result()
	if err != nil {
		return nil, err
	}
	slots, err := node.ClusterSlots(ctx).Result()
	if err != nil {
		return nil, err
	}
	return func(s int) bool {
		for _, sl := range slots {
			if sl.Start <= s && s <= sl.End && len(sl.Nodes) > 0 {
				return sl.Nodes[0].ID == id
			}
		}
		return false
	}, nil
}

// resubscribe subscribes every channel of the given slots that has local
// subscribers again, on the connection to each slot's current master:
// the masters go-redis's slot map names, each asked once whether it
// serves them. A slot whose master does not (the map is stale), or does
// not answer, is left for the check after repairCheck, with the map
// reloaded by then. The questions are asked without cmdMu, so that a
// paused master holds up no Subscribe or cancel of other channels.
func (r *Redis) resubscribe(slots []int) {
	ctx, done := context.WithTimeout(context.Background(), subscribeTimeout)
	defer done()
	// By master, so each is asked once.
	byNode := make(map[string][]int)
	nodes := make(map[string]*redis.Client)
	for s, names := range r.channelsOf(slots) {
		node, err := r.cluster.MasterForKey(ctx, names[0])
		if err != nil {
			continue // retried after repairCheck
		}
		addr := node.Options().Addr
		nodes[addr] = node
		byNode[addr] = append(byNode[addr], s)
	}
	var ready []int
	stale := false
	for addr, ss := range byNode {
		served, err := servedBy(ctx, nodes[addr])
		if err != nil {
			stale = true // down, or not answering: the map may be out of date
			continue
		}
		for _, s := range ss {
			if served(s) {
				ready = append(ready, s)
			} else {
				// go-redis would connect to the node that dropped us, now
				// a replica, which accepts sharded subscribers but loses
				// their messages while it resyncs.
				stale = true
			}
		}
	}
	if stale {
		r.cluster.ReloadState(ctx)
	}
	if len(ready) == 0 {
		return
	}
	r.cmdMu.Lock()
	defer r.cmdMu.Unlock()
	// A budget of its own: the questions may have used up the first.
	sctx, sdone := context.WithTimeout(context.Background(), subscribeTimeout)
	defer sdone()
	// Read again under cmdMu: channels may have come or gone meanwhile.
	for s, names := range r.channelsOf(ready) {
		if err := r.moveSlot(sctx, s, names); err != nil {
			r.log.Warn().Err(err).Int("slot", s).Msg("fanout: redis resubscribe failed; will retry")
		}
	}
	for addr, c := range r.shards {
		if c.dead.Load() {
			delete(r.shards, addr) // its slots are pending or moved
		}
	}
}

// channelsOf returns the sharded channels with local subscribers of each
// of slots that has any; none once the bus is closed.
func (r *Redis) channelsOf(slots []int) map[int][]string {
	want := make(map[int]bool, len(slots))
	for _, s := range slots {
		want[s] = true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[int][]string)
	if r.closed {
		return out
	}
	for name := range r.chans {
		if s := slot(name); r.sharded(name) && want[s] {
			out[s] = append(out[s], name)
		}
	}
	return out
}

// moveSlot subscribes channels (all of slot s with local subscribers) on
// the connection to the slot's current master, after taking the slot off
// the connection that carried it, if any. A failure leaves the slot
// unconfirmed, for the repair goroutine to try again. cmdMu must be held.
func (r *Redis) moveSlot(ctx context.Context, s int, channels []string) error {
	c, err := r.shardFor(ctx, channels[0])
	if err != nil {
		return err
	}
	if old := r.slotConns[s]; old != nil && old != c {
		if old.drop(s) {
			r.closeShard(old)
		} else if !old.dead.Load() {
			// The old master, now a replica of the slot's master, may
			// still hold channels subscribed after it stopped serving the
			// slot (a replica takes SSUBSCRIBE, and gets the shard's
			// messages): they would arrive twice. A replica takes this
			// SUNSUBSCRIBE; a master that gave the slot away answers
			// MOVED, having dropped its subscribers already.
			_ = old.send(ctx, append([]string{"SUNSUBSCRIBE"}, channels...)...)
		}
	} else if old == c {
		c.drop(s) // subscribed again below, counted afresh
	}
	r.slotConns[s] = c
	// One SSUBSCRIBE for all: they share the slot. Channels already
	// subscribed there are confirmed again, which resyncs them.
	return c.subscribe(ctx, s, channels...)
}
