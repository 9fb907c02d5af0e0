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

// TestRedisClusterSharded: a tagged channel is subscribed with SSUBSCRIBE
// on the master of its slot, through a connection of that slot that the
// last cancel closes.
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
	b.cmdMu.Lock()
	conns := len(b.conns)
	b.cmdMu.Unlock()
	if conns != len(chans) {
		t.Fatalf("%d connections for %d slots", conns, len(chans))
	}
	for _, c := range cancels {
		c()
	}
	b.cmdMu.Lock()
	conns = len(b.conns)
	b.cmdMu.Unlock()
	if conns != 0 {
		t.Fatalf("%d connections left after the last cancel", conns)
	}
}

// TestRedisClusterFailoverResyncs: when the master of a sharded channel's
// slot is killed, its replica takes over, go-redis re-subscribes on it,
// and the subscriber gets fn(nil) and then live messages again; channels
// on the other shards keep flowing meanwhile.
func TestRedisClusterFailoverResyncs(t *testing.T) {
	t.Parallel()
	cluster := redistest.StartCluster(t, 3, 1)
	cc := newClusterClient(t, cluster)
	sub := newRedisBus(t, cc)
	pub := newRedisBus(t, newClusterClient(t, cluster)) // another process
	chans := channelsOnEveryShard(t, cc, 3)
	recs := make([]*recorder, len(chans))
	for i, ch := range chans {
		recs[i] = newRecorder()
		subscribe(t, sub, ch, recs[i].fn)
		recs[i].expectNil(t)
	}

	start := time.Now()
	cluster.KillMasterOf(chans[0])
	// Another shard is unaffected.
	publish(t, pub, chans[1], "other shard")
	recs[1].expectMsg(t, "other shard")

	// The subscriber hears fn(nil) once re-subscribed on the new master.
	select {
	case m := <-recs[0].ch:
		if m != nil {
			t.Fatalf("got %q before the resync", m)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no fn(nil) within 30 s of the master's death")
	}
	resub := time.Since(start)
	// Publishing works again, and reaches it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if !poll.Wait(ctx, func() bool {
		pctx, done := context.WithTimeout(ctx, time.Second)
		defer done()
		return pub.Publish(pctx, chans[0], []byte("healed")) == nil
	}) {
		t.Fatal("publish still failing 30 s after the master's death")
	}
	recs[0].expectMsg(t, "healed")
	t.Logf("re-subscribed %v after the kill, publishing again after %v",
		resub.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// TestRedisClusterPlannedFailover: after a CLUSTER FAILOVER the old master
// lives on as a replica and tells its sharded subscribers it dropped
// them (an unasked "sunsubscribe"); the bus subscribes again on the new
// master and the subscriber gets fn(nil), then live messages.
func TestRedisClusterPlannedFailover(t *testing.T) {
	t.Parallel()
	cluster := redistest.StartCluster(t, 3, 1)
	b := newRedisBus(t, newClusterClient(t, cluster))
	pub := newRedisBus(t, newClusterClient(t, cluster))
	ch := "collab:doc:{planned}"
	r := newRecorder()
	subscribe(t, b, ch, r.fn)
	r.expectNil(t)
	start := time.Now()
	old := cluster.FailoverOf(ch)
	cluster.WaitFailover(ch, old)
	select {
	case m := <-r.ch:
		if m != nil {
			t.Fatalf("got %q before the resync", m)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no fn(nil) within 30 s of the failover")
	}
	t.Logf("re-subscribed %v after CLUSTER FAILOVER", time.Since(start).Round(time.Millisecond))
	// On the new master, not on the old one now a replica.
	node, err := newClusterClient(t, cluster).MasterForKey(context.Background(), ch)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := node.PubSubShardNumSub(context.Background(), ch).Result(); err != nil || n[ch] != 1 {
		t.Fatalf("SHARDNUMSUB on the new master %s: %v, %v", node.Options().Addr, n, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if !poll.Wait(ctx, func() bool {
		pctx, done := context.WithTimeout(ctx, time.Second)
		defer done()
		return pub.Publish(pctx, ch, []byte("after")) == nil
	}) {
		t.Fatal("publish failing after the failover")
	}
	r.expectMsg(t, "after")
}

// TestRedisClusterSlotMoved: when a sharded channel's slot moves to
// another master (resharding), the old master drops its subscribers; the
// bus subscribes again on the new master, the subscriber gets fn(nil),
// then live messages from a publisher that followed the move.
func TestRedisClusterSlotMoved(t *testing.T) {
	t.Parallel()
	cluster := redistest.StartCluster(t, 3, 1)
	b := newRedisBus(t, newClusterClient(t, cluster))
	pub := newRedisBus(t, newClusterClient(t, cluster))
	ch := "collab:doc:{resharded}"
	r := newRecorder()
	subscribe(t, b, ch, r.fn)
	r.expectNil(t)
	publish(t, pub, ch, "before")
	r.expectMsg(t, "before")
	from := cluster.MasterOf(ch)
	var to *redistest.Server
	for _, m := range cluster.Masters() {
		if m != from {
			to = m
			break
		}
	}
	start := time.Now()
	cluster.MoveSlotOf(ch, to, 300*time.Millisecond)
	select {
	case m := <-r.ch:
		if m != nil {
			t.Fatalf("got %q before the resync", m)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no fn(nil) within 30 s of the move")
	}
	t.Logf("re-subscribed %v after the move began", time.Since(start).Round(time.Millisecond))
	// On the new master (PUBSUB SHARDNUMSUB has no key: asked of the
	// node, not of the cluster).
	node, err := newClusterClient(t, cluster).MasterForKey(context.Background(), ch)
	if err != nil {
		t.Fatal(err)
	}
	if node.Options().Addr != to.Addr() {
		t.Fatalf("the channel's master is %s after the move, want %s", node.Options().Addr, to.Addr())
	}
	if n, err := node.PubSubShardNumSub(context.Background(), ch).Result(); err != nil || n[ch] != 1 {
		t.Fatalf("SHARDNUMSUB on the new master %s: %v, %v", to.Addr(), n, err)
	}
	publish(t, pub, ch, "after")
	r.expectMsg(t, "after")
}
