package fanout

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/redistest"
	"github.com/redis/go-redis/v9"
)

// TestSlot: the bus computes a channel's hash slot as Redis does.
func TestSlot(t *testing.T) {
	t.Parallel()
	cc := newClusterClient(t, redistest.SharedCluster(t))
	for _, name := range []string{"collab:doc:{d1}", "collab:proc:{p-9f2}", "{}", "a{}b", "a{b", "x}{y}", "collab:revoke", "{a}{b}", ""} {
		want, err := cc.ClusterKeySlot(context.Background(), name).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got := slot(name); int64(got) != want {
			t.Errorf("slot(%q) = %d, Redis says %d", name, got, want)
		}
	}
	for name, want := range map[string]bool{"collab:doc:{d1}": true, "{}": false, "a{b": false, "x}{y}": true, "collab:revoke": false} {
		if hasTag(name) != want {
			t.Errorf("hasTag(%q) = %v", name, !want)
		}
	}
}

// channelsOnEveryShard returns one tagged channel per master of cluster c.
func channelsOnEveryShard(t *testing.T, cc *redis.ClusterClient, masters int) []string {
	t.Helper()
	seen := make(map[string]bool)
	var out []string
	for i := 0; len(out) < masters; i++ {
		ch := fmt.Sprintf("collab:doc:{%s-%d}", t.Name(), i)
		node, err := cc.MasterForKey(context.Background(), ch)
		if err != nil {
			t.Fatal(err)
		}
		if addr := node.Options().Addr; !seen[addr] {
			seen[addr] = true
			out = append(out, ch)
		}
	}
	return out
}

// expectResync waits up to 30 s for fn(nil), failing on a message
// before it; what names the fault for the failure.
func (r *recorder) expectResync(t *testing.T, what string) {
	t.Helper()
	select {
	case m := <-r.ch:
		if m != nil {
			t.Fatalf("got %q before the resync", m)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no fn(nil) within 30 s of %s", what)
	}
}

// publishOnceUp publishes msg on ch as soon as Redis takes it, within 30
// s; what names the fault for the failure.
func publishOnceUp(t *testing.T, pub *Redis, ch, msg, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if !poll.Wait(ctx, func() bool {
		pctx, done := context.WithTimeout(ctx, time.Second)
		defer done()
		return pub.Publish(pctx, ch, []byte(msg)) == nil
	}) {
		t.Fatalf("publish still failing 30 s after %s", what)
	}
}

// liveShards counts the bus's live sharded connections.
func liveShards(b *Redis) int {
	b.cmdMu.Lock()
	defer b.cmdMu.Unlock()
	n := 0
	for _, c := range b.shards {
		if !c.dead.Load() {
			n++
		}
	}
	return n
}

// TestRedisClusterSharded: a tagged channel is subscribed with SSUBSCRIBE
// on the master of its slot, through the bus's one connection to that
// master, which the last cancel closes.
func TestRedisClusterSharded(t *testing.T) {
	t.Parallel()
	cc := newClusterClient(t, redistest.SharedCluster(t))
	b := newRedisBus(t, cc)
	if !b.Sharded() {
		t.Fatal("bus on a cluster client not sharded")
	}
	chans := channelsOnEveryShard(t, cc, 3)
	var cancels []func()
	for _, ch := range chans {
		r := newRecorder()
		cancels = append(cancels, subscribe(t, b, ch, r.fn))
		r.expectNil(t)
		publish(t, b, ch, "hi")
		r.expectMsg(t, "hi")
		node, err := cc.MasterForKey(context.Background(), ch)
		if err != nil {
			t.Fatal(err)
		}
		n, err := node.PubSubShardNumSub(context.Background(), ch).Result()
		if err != nil || n[ch] != 1 {
			t.Fatalf("SHARDNUMSUB %s on its master: %v, %v", ch, n, err)
		}
	}
	if n := liveShards(b); n != len(chans) {
		t.Fatalf("%d connections for %d masters", n, len(chans))
	}
	for _, c := range cancels {
		c()
	}
	if n := liveShards(b); n != 0 {
		t.Fatalf("%d connections left after the last cancel", n)
	}
}

// TestRedisClusterManySlotsOneConnPerMaster: channels on hundreds of
// slots are subscribed over one connection per master (one SSUBSCRIBE per
// slot on it), each gets its messages and only its own, and cancelling
// some slots' channels leaves the others flowing on the same connections.
func TestRedisClusterManySlotsOneConnPerMaster(t *testing.T) {
	t.Parallel()
	cc := newClusterClient(t, redistest.SharedCluster(t))
	b := newRedisBus(t, cc)
	pub := newRedisBus(t, newClusterClient(t, redistest.SharedCluster(t)))
	const n = 300
	recs := make([]*recorder, n)
	cancels := make([]func(), n)
	slots := make(map[int]bool)
	for i := range recs {
		ch := fmt.Sprintf("collab:doc:{%s-%d}", t.Name(), i)
		slots[slot(ch)] = true
		recs[i] = newRecorder()
		cancels[i] = subscribe(t, b, ch, recs[i].fn)
	}
	for _, r := range recs {
		r.expectNil(t)
	}
	if got := liveShards(b); got != 3 {
		t.Fatalf("%d sharded connections for %d slots on 3 masters, want 3", got, len(slots))
	}
	for i := range recs {
		publish(t, pub, fmt.Sprintf("collab:doc:{%s-%d}", t.Name(), i), fmt.Sprint("m", i))
	}
	for i, r := range recs {
		r.expectMsg(t, fmt.Sprint("m", i))
	}
	// The first half leaves; the second keeps its messages.
	for _, c := range cancels[:n/2] {
		c()
	}
	for i := range n {
		publish(t, pub, fmt.Sprintf("collab:doc:{%s-%d}", t.Name(), i), fmt.Sprint("again", i))
	}
	for i := n / 2; i < n; i++ {
		recs[i].expectMsg(t, fmt.Sprint("again", i))
	}
	for i := range n / 2 {
		recs[i].expectNone(t, 10*time.Millisecond)
	}
}

// subscribedOnEveryShard starts a cluster of 3 masters with a replica
// each, and a bus (set up by setup, if any) subscribed to one channel on
// each master (confirmed); it returns a second bus to publish with
// (another process), the channels and their recorders.
func subscribedOnEveryShard(t *testing.T, setup ...func(*Redis)) (*redistest.Cluster, *Redis, []string, []*recorder) {
	t.Helper()
	cluster := redistest.StartCluster(t, 3, 1)
	cc := newClusterClient(t, cluster)
	sub := newRedisBus(t, cc)
	for _, f := range setup {
		f(sub)
	}
	pub := newRedisBus(t, newClusterClient(t, cluster))
	chans := channelsOnEveryShard(t, cc, 3)
	recs := make([]*recorder, len(chans))
	for i, ch := range chans {
		recs[i] = newRecorder()
		subscribe(t, sub, ch, recs[i].fn)
		recs[i].expectNil(t)
	}
	return cluster, pub, chans, recs
}

// TestRedisClusterFailoverResyncs: when the master of a sharded channel's
// slot is killed, its replica takes over, the bus re-subscribes on it,
// and the subscriber gets fn(nil) and then live messages again; channels
// on the other shards keep flowing meanwhile.
func TestRedisClusterFailoverResyncs(t *testing.T) {
	t.Parallel()
	cluster, pub, chans, recs := subscribedOnEveryShard(t)

	start := time.Now()
	cluster.KillMasterOf(chans[0])
	// Another shard is unaffected.
	publish(t, pub, chans[1], "other shard")
	recs[1].expectMsg(t, "other shard")

	// The subscriber hears fn(nil) once re-subscribed on the new master.
	recs[0].expectResync(t, "the master's death")
	resub := time.Since(start)
	// Publishing works again, and reaches it.
	publishOnceUp(t, pub, chans[0], "healed", "the master's death")
	recs[0].expectMsg(t, "healed")
	t.Logf("re-subscribed %v after the kill, publishing again after %v",
		resub.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// TestRedisClusterMasterPaused: a master that stops answering (SIGSTOP)
// without closing its sockets is noticed by the silence on the sharded
// connection; its replica takes over, the subscriber gets fn(nil) and
// live messages again; when the old master resumes (now a replica) the
// channel stays on the new one.
func TestRedisClusterMasterPaused(t *testing.T) {
	t.Parallel()
	// Timers compressed: dead after 0.6 s of silence, not 3 s.
	cluster, pub, chans, recs := subscribedOnEveryShard(t, func(b *Redis) {
		b.ShardPing, b.ShardSilence = 200*time.Millisecond, 600*time.Millisecond
	})
	old := cluster.MasterOf(chans[0])
	start := time.Now()
	old.Pause()
	resumed := false
	defer func() {
		if !resumed {
			old.Resume()
		}
	}()
	// Another shard is unaffected meanwhile.
	publish(t, pub, chans[1], "other shard")
	recs[1].expectMsg(t, "other shard")
	recs[0].expectResync(t, "the master's pause")
	t.Logf("re-subscribed %v after the pause", time.Since(start).Round(time.Millisecond))
	old.Resume()
	resumed = true
	publishOnceUp(t, pub, chans[0], "healed", "the pause")
	recs[0].expectMsg(t, "healed")
	if m := cluster.MasterOf(chans[0]); m == old {
		t.Fatalf("the paused master %s still serves the slot", old.Addr())
	}
}

// TestRedisClusterHandover: when a live node stops serving a sharded
// channel's slot, it drops its subscribers with an unasked
// "sunsubscribe"; the bus subscribes again on the slot's new master, the
// subscriber gets fn(nil), then live messages. Two handovers do that: a
// CLUSTER FAILOVER (the old master lives on as a replica) and a
// resharding (the slot, with its keys, moves to another master).
func TestRedisClusterHandover(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// handover moves ch's slot and returns the address of the master
		// that serves it afterwards.
		handover func(cluster *redistest.Cluster, ch string) string
	}{
		{"planned failover", func(cluster *redistest.Cluster, ch string) string {
			old := cluster.FailoverOf(ch)
			cluster.WaitFailover(ch, old)
			return cluster.MasterOf(ch).Addr()
		}},
		{"slot moved", func(cluster *redistest.Cluster, ch string) string {
			from := cluster.MasterOf(ch)
			for _, m := range cluster.Masters() {
				if m != from {
					cluster.MoveSlotOf(ch, m, 300*time.Millisecond)
					return m.Addr()
				}
			}
			t.Fatal("no other master")
			return ""
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cluster := redistest.StartCluster(t, 3, 1)
			b := newRedisBus(t, newClusterClient(t, cluster))
			pub := newRedisBus(t, newClusterClient(t, cluster))
			ch := "collab:doc:{handover}"
			r := newRecorder()
			subscribe(t, b, ch, r.fn)
			r.expectNil(t)
			// A channel of another slot of the same master keeps the old
			// connection open, so the old master's answers to the move
			// (SUNSUBSCRIBE's MOVED, an unasked "sunsubscribe") reach the
			// bus: they must not repair ch a second time.
			stay := sameMasterOtherSlot(t, cluster, ch)
			other := newRecorder()
			subscribe(t, b, stay, other.fn)
			other.expectNil(t)
			start := time.Now()
			to := tc.handover(cluster, ch)
			r.expectResync(t, "the handover")
			t.Logf("re-subscribed %v after the handover began", time.Since(start).Round(time.Millisecond))
			// On the new master, not on the old one (PUBSUB SHARDNUMSUB has
			// no key: it is asked of a node, not of the cluster).
			node, err := newClusterClient(t, cluster).MasterForKey(context.Background(), ch)
			if err != nil {
				t.Fatal(err)
			}
			if node.Options().Addr != to {
				t.Fatalf("the channel's master is %s after the handover, want %s", node.Options().Addr, to)
			}
			if n, err := node.PubSubShardNumSub(context.Background(), ch).Result(); err != nil || n[ch] != 1 {
				t.Fatalf("SHARDNUMSUB on the new master %s: %v, %v", to, n, err)
			}
			publishOnceUp(t, pub, ch, "after", "the handover")
			r.expectMsg(t, "after")
			r.expectNone(t, time.Second) // one resync, not two
		})
	}
}

// sameMasterOtherSlot names a document channel served by ch's master, in
// another slot.
func sameMasterOtherSlot(t *testing.T, cluster *redistest.Cluster, ch string) string {
	t.Helper()
	m := cluster.MasterOf(ch)
	for i := range 1000 {
		name := fmt.Sprintf("collab:doc:{stay-%d}", i)
		if slot(name) != slot(ch) && cluster.MasterOf(name) == m {
			return name
		}
	}
	t.Fatal("no channel of another slot on the same master")
	return ""
}

// TestRedisClusterConnDropped: when a sharded connection drops (here its
// socket is closed under the bus, as a network fault would), a channel
// subscribed on the same slot before the repair has run, and a channel of
// the slot cancelled meanwhile, leave the slot's other channel flowing:
// the slot is subscribed whole on the new connection, never by the one
// channel that came.
func TestRedisClusterConnDropped(t *testing.T) {
	t.Parallel()
	cluster := redistest.SharedCluster(t)
	b := newRedisBus(t, newClusterClient(t, cluster))
	pub := newRedisBus(t, newClusterClient(t, cluster))
	y, x := "collab:doc:{dropped}:y", "collab:doc:{dropped}:x"
	ry, rx := newRecorder(), newRecorder()
	cancelY := subscribe(t, b, y, ry.fn)
	ry.expectNil(t)
	b.cmdMu.Lock()
	c := b.slotConns[slot(y)]
	b.cmdMu.Unlock()
	_ = c.nc.Close() // the reader fails: the slot goes to the repair goroutine
	subscribe(t, b, x, rx.fn)
	cancelY()
	rx.expectNil(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// x may be confirmed more than once (by the repair too); then live.
	if !poll.Wait(ctx, func() bool {
		publish(t, pub, x, "after")
		for {
			select {
			case m := <-rx.ch:
				if string(m) == "after" {
					return true
				}
			case <-time.After(100 * time.Millisecond):
				return false
			}
		}
	}) {
		t.Fatal("x got nothing after its slot's connection dropped and y left")
	}
}
