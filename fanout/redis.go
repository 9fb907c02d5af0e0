package fanout

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// subscribeTimeout bounds the SUBSCRIBE or UNSUBSCRIBE write. It is 2 s,
// twice the 1 s dial timeout set by redisopt.Parse, so that a down server
// does not hold up Subscribe (and the cancels queued behind it) for
// longer.
const subscribeTimeout = 2 * time.Second

// Redis is a hub.Bus over Redis pub/sub, for several processes sharing one
// Redis server or one Redis Cluster.
//
// On one server each Publish is one PUBLISH, and all subscriptions of a
// Redis share one PubSub connection, subscribed once to each channel that
// has local subscribers; see the package doc for the goroutines.
//
// On a cluster (a *redis.ClusterClient) a channel whose name holds a hash
// tag, such as "collab:doc:{d1}", is sharded: SPUBLISH and SSUBSCRIBE, on
// the master of the tag's slot only, so a document's events load one shard
// and not the whole cluster. A channel without a tag, such as
// "collab:revoke", stays on classic PUBLISH, which every node relays to
// every other over the cluster bus: that costs one cluster-bus message per
// node, acceptable for the rare global messages that use it, and lets
// their subscribers connect to any node. Sharded subscriptions go over one
// connection per master (shardConn), one SSUBSCRIBE per slot.
//
// go-redis re-establishes the classic PubSub connection after an outage
// and re-subscribes to every channel; a sharded connection that dies is
// replaced by the repair goroutine, on each slot's master of the moment.
// Redis answers each (re-)subscription with a "subscribe" or
// "ssubscribe" confirmation, which is how this bus knows the subscription
// is live again and tells every local subscriber of the channel fn(nil).
type Redis struct {
	// DropRate is for tests only: the probability in [0, 1] that a
	// message received from Redis is silently dropped before delivery, to
	// prove that subscribers detect gaps. Set it before the first
	// Subscribe and leave it alone afterwards; it is not synchronised.
	DropRate float64
	// ShardPing and ShardSilence keep a cluster's sharded connections
	// honest: each sends PING every ShardPing and counts itself dead when
	// nothing arrives for ShardSilence (a paused or unreachable master),
	// its slots then subscribed again elsewhere. NewRedis sets 1 s and
	// 3 s (zero or less also means those); set them before the first
	// Subscribe.
	ShardPing, ShardSilence time.Duration

	client  redis.UniversalClient
	cluster *redis.ClusterClient // nil on one server
	log     zerolog.Logger
	notice  zerolog.Logger // log, sampled: for what a node may repeat many times a second
	// queueLen is the per-subscription backlog; a field so tests can
	// shrink it.
	queueLen int
	// loops counts the receive loops: one for the classic PubSub
	// connection, two (reader, pinger) per sharded connection.
	loops sync.WaitGroup

	// cmdMu orders each refcount change with its SUBSCRIBE or UNSUBSCRIBE,
	// so a cancel racing a Subscribe of the same channel cannot leave
	// Redis unsubscribed from a channel that has local subscribers. It is
	// held across network writes; mu never is, so the receive loop is
	// never delayed by them.
	cmdMu sync.Mutex

	// classic is the classic PubSub connection, made at the first
	// unsharded subscribe; guarded by cmdMu.
	classic *redis.PubSub
	// shards are the sharded connections by master address, and
	// slotConns the one carrying each slot in use; guarded by cmdMu. An
	// entry may be a dead connection until it is replaced.
	shards    map[string]*shardConn
	slotConns map[int]*shardConn

	mu     sync.Mutex
	chans  map[string]*redisChan
	closed bool
	// pending and repaired are the slots whose sharded subscriptions
	// must be made again (see repairLoop): dropped by their node, lost
	// with their connection, or refused. Guarded by mu.
	pending  map[int]bool
	repaired map[int]bool

	// The repair goroutine, on a cluster only.
	repairWake chan struct{} // capacity 1: "pending changed"
	repairStop chan struct{}
	repairDone chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// redisChan is the local state of one subscribed channel.
type redisChan struct {
	subs map[*sub]struct{}
	// live is set by Redis's confirmation ("subscribe", "ssubscribe"). A
	// classic channel's later confirmation while live means go-redis
	// re-subscribed after reconnecting; a sharded channel is not live
	// again until the repair goroutine has subscribed it again.
	live bool
}

// NewRedis returns a bus publishing with client and receiving on one
// PubSub connection of client, and on a cluster also on one connection
// per master whose slots it uses. client stays the caller's: Close does
// not close it. Build it with redisopt so Publish fails promptly while
// Redis is down.
func NewRedis(client redis.UniversalClient, log zerolog.Logger) *Redis {
	r := &Redis{
		client:   client,
		log:      log,
		queueLen: queueLen,
		chans:    make(map[string]*redisChan),
		shards:   make(map[string]*shardConn),

		slotConns: make(map[int]*shardConn),
	}
	r.ShardPing, r.ShardSilence = defaultShardPing, defaultShardSilence
	r.notice = log.Sample(&zerolog.BurstSampler{Burst: 1, Period: 10 * time.Second})
	r.cluster, _ = client.(*redis.ClusterClient)
	if r.cluster != nil {
		r.pending, r.repaired = make(map[int]bool), make(map[int]bool)
		r.repairWake = make(chan struct{}, 1)
		r.repairStop, r.repairDone = make(chan struct{}), make(chan struct{})
		go r.repairLoop()
	}
	return r
}

// Sharded reports whether the bus runs on a Redis Cluster, where channels
// with a hash tag are sharded (see Redis). The hub then names its
// channels with one.
func (r *Redis) Sharded() bool { return r.cluster != nil }

// sharded reports whether channel uses sharded pub/sub.
func (r *Redis) sharded(channel string) bool {
	return r.cluster != nil && hasTag(channel)
}

// subscribe subscribes to channel: a sharded one on its master's
// connection (subscribeShard), another on the classic PubSub connection,
// created with its receive loop if needed. cmdMu must be held.
func (r *Redis) subscribe(ctx context.Context, channel string) error {
	if r.sharded(channel) {
		return r.subscribeShard(ctx, channel)
	}
	if r.classic != nil {
		return r.classic.Subscribe(ctx, channel)
	}
	r.classic = r.client.Subscribe(ctx) // no channels, no I/O
	err := r.classic.Subscribe(ctx, channel)
	// ChannelWithSubscriptions (not Channel) because it also yields the
	// *redis.Subscription confirmations that reveal a re-subscription.
	// Its buffer of 1024 absorbs bursts while the loop holds mu; the loop
	// never blocks on subscribers, so go-redis's 60 s send timeout (after
	// which it drops a message) is never reached in practice. It is
	// started after the first subscribe, since its reader connects at once.
	ch := r.classic.ChannelWithSubscriptions(redis.WithChannelSize(1024))
	r.loops.Add(1)
	go r.loop(ch)
	return err
}

// subscribeShard subscribes to channel on the connection carrying its
// slot. A slot without a live connection (new,
// or its connection died) is moved whole to its master's connection
// (moveSlot): every channel of it with local subscribers, as the repair
// goroutine would. When that fails the slot is left to the repair
// goroutine, which tries again until Redis answers. cmdMu must be held.
func (r *Redis) subscribeShard(ctx context.Context, channel string) error {
	s := slot(channel)
	var err error
	if c := r.slotConns[s]; c != nil && !c.dead.Load() {
		err = c.subscribe(ctx, s, channel)
	} else {
		channels := []string{channel}
		if all := r.channelsOf([]int{s})[s]; len(all) > 0 {
			channels = all
		}
		err = r.moveSlot(ctx, s, channels)
	}
	if err != nil {
		r.markPending(s)
	}
	return err
}

// shardFor returns the live connection to the master that go-redis's slot
// map names for channel, dialling it if needed. cmdMu must be held.
func (r *Redis) shardFor(ctx context.Context, channel string) (*shardConn, error) {
	node, err := r.cluster.MasterForKey(ctx, channel)
	if err != nil {
		return nil, fmt.Errorf("fanout: master of %s: %w", channel, err)
	}
	addr := node.Options().Addr
	if c := r.shards[addr]; c != nil && !c.dead.Load() {
		return c, nil
	}
	c, err := r.dialShard(ctx, node)
	if err != nil {
		return nil, err
	}
	r.shards[addr] = c
	return c, nil
}

// markPending hands slot s to the repair goroutine.
func (r *Redis) markPending(s int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pendLocked(s)
}

// pendLocked is markPending with mu held.
func (r *Redis) pendLocked(s int) {
	if r.closed {
		return
	}
	r.pending[s] = true
	select {
	case r.repairWake <- struct{}{}:
	default:
	}
}

// Publish sends msg on channel with one PUBLISH, or SPUBLISH for a
// sharded channel. With the options of redisopt it fails within about
// 2 s while Redis is unreachable, sooner if ctx ends.
func (r *Redis) Publish(ctx context.Context, channel string, msg []byte) error {
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return ErrClosed
	}
	var err error
	if r.sharded(channel) {
		err = r.client.SPublish(ctx, channel, msg).Err()
	} else {
		err = r.publishClassic(ctx, channel, msg)
	}
	if err != nil {
		return fmt.Errorf("fanout: publish %q: %w", channel, err)
	}
	return nil
}

// publishClassic sends a classic PUBLISH. On a cluster go-redis would
// send each to a random node, and the cluster bus relays messages that
// entered at different nodes in no particular order; sending all of a
// channel's messages to one node, the master of the channel name's slot,
// keeps them in order.
func (r *Redis) publishClassic(ctx context.Context, channel string, msg []byte) error {
	if r.cluster == nil {
		return r.client.Publish(ctx, channel, msg).Err()
	}
	node, err := r.cluster.MasterForKey(ctx, channel)
	if err != nil {
		return err
	}
	return node.Publish(ctx, channel, msg).Err()
}

// PublishBatch sends msgs[i] to channels[i], in order, in one pipelined
// round trip (on a cluster, one per shard involved, in parallel; go-redis
// keeps the order within each shard, so within each channel). A
// publisher with many messages queued (a hot document) pays one network
// round trip per batch instead of one per message: at ~100 µs a round
// trip, unbatched publishing caps one ordered stream near 10k/s.
func (r *Redis) PublishBatch(ctx context.Context, channels []string, msgs [][]byte) error {
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return ErrClosed
	}
	pipe := r.client.Pipeline()
	var classic []int // on a cluster: sent one by one, see publishClassic
	for i, ch := range channels {
		switch {
		case r.sharded(ch):
			pipe.SPublish(ctx, ch, msgs[i])
		case r.cluster != nil:
			classic = append(classic, i)
		default:
			pipe.Publish(ctx, ch, msgs[i])
		}
	}
	if pipe.Len() > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("fanout: publish batch of %d: %w", len(msgs), err)
		}
	}
	for _, i := range classic {
		if err := r.publishClassic(ctx, channels[i], msgs[i]); err != nil {
			return fmt.Errorf("fanout: publish %q: %w", channels[i], err)
		}
	}
	return nil
}

// Subscribe calls fn with each message received on channel, from one
// goroutine, in the order received. fn(nil) comes first once Redis has
// confirmed the subscription, again after every reconnection, and after
// messages were dropped because fn fell more than 1024 messages behind;
// each time the subscriber should check the log. Messages are never nil
// (an empty message is an empty non-nil slice).
//
// Subscribe does not fail while Redis is down: the subscription takes
// effect, and fn(nil) is called, when the connection comes back. It fails
// only after Close. cancel stops the calls and waits for a running one to
// return; it must not be called from fn.
func (r *Redis) Subscribe(channel string, fn func(msg []byte)) (cancel func(), err error) {
	if fn == nil {
		return nil, errors.New("fanout: subscribe with nil fn")
	}
	r.cmdMu.Lock()
	defer r.cmdMu.Unlock()

	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, ErrClosed
	}
	s := newSub(fn, r.queueLen)
	c := r.chans[channel]
	first := c == nil
	if first {
		c = &redisChan{subs: make(map[*sub]struct{})}
		r.chans[channel] = c
	}
	c.subs[s] = struct{}{}
	if c.live {
		// Redis already sends us this channel: in effect right away.
		s.resync()
	}
	s.start()
	r.mu.Unlock()

	if first {
		ctx, done := context.WithTimeout(context.Background(), subscribeTimeout)
		err := r.subscribe(ctx, channel)
		done()
		if err != nil {
			// go-redis keeps a classic channel in its set even when the
			// write fails, and subscribes to it when it reconnects; the
			// repair goroutine subscribes a sharded one again. Either
			// confirmation then triggers fn(nil).
			r.log.Warn().Err(err).Str("channel", channel).
				Msg("fanout: redis subscribe failed; subscribing again later")
		}
	}

	var once sync.Once
	return func() { once.Do(func() { r.unsubscribe(channel, s) }) }, nil
}

// unsubscribe removes s and sends UNSUBSCRIBE if it was the channel's last
// local subscriber.
func (r *Redis) unsubscribe(channel string, s *sub) {
	r.cmdMu.Lock()
	r.mu.Lock()
	last := false
	if c := r.chans[channel]; c != nil {
		delete(c.subs, s)
		if len(c.subs) == 0 {
			delete(r.chans, channel)
			last = !r.closed
		}
	}
	r.mu.Unlock()
	if last {
		r.release(channel)
	}
	r.cmdMu.Unlock()
	s.stopAndWait()
}

// release unsubscribes from channel, which has no local subscriber left.
// A sharded connection left with no channel is closed rather than sent
// SUNSUBSCRIBE, so a process holds connections only to the masters it
// uses. cmdMu must be held.
func (r *Redis) release(channel string) {
	ctx, done := context.WithTimeout(context.Background(), subscribeTimeout)
	defer done()
	var err error
	if r.sharded(channel) {
		err = r.releaseShard(ctx, channel)
	} else if r.classic != nil {
		// On failure go-redis has still forgotten the channel, so it is
		// not re-subscribed on reconnect; a dead connection has dropped
		// the subscription anyway.
		err = r.classic.Unsubscribe(ctx, channel)
	}
	if err != nil {
		r.log.Debug().Err(err).Str("channel", channel).Msg("fanout: redis unsubscribe failed")
	}
}

// releaseShard is release for a sharded channel. cmdMu must be held.
func (r *Redis) releaseShard(ctx context.Context, channel string) error {
	s := slot(channel)
	c := r.slotConns[s]
	if c == nil {
		return nil
	}
	empty, slotLeft, err := c.unsubscribe(ctx, s, channel)
	if !slotLeft {
		delete(r.slotConns, s)
	}
	if empty {
		r.closeShard(c)
	}
	return err
}

// closeShard closes c and forgets it. cmdMu must be held.
func (r *Redis) closeShard(c *shardConn) {
	c.close()
	if r.shards[c.addr] == c {
		delete(r.shards, c.addr)
	}
}

// loop routes what one PubSub connection receives to the local
// subscribers' queues until its PubSub is closed, which closes ch.
func (r *Redis) loop(ch <-chan any) {
	defer r.loops.Done()
	for m := range ch {
		switch m := m.(type) {
		case *redis.Subscription:
			switch m.Kind {
			case "subscribe", "ssubscribe":
				r.confirmed(m.Channel)
			case "sunsubscribe":
				r.dropped(m.Channel)
			}
		case *redis.Message:
			r.deliver(m.Channel, m.Payload)
		}
	}
}

// confirmed handles Redis's confirmation of a SUBSCRIBE, the first one or
// the one go-redis sends after reconnecting: every local subscriber of
// the channel may have missed messages and gets fn(nil).
func (r *Redis) confirmed(channel string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.chans[channel]
	if c == nil {
		return // cancelled meanwhile
	}
	if c.live {
		r.log.Info().Str("channel", channel).Msg("fanout: redis subscription re-established")
	}
	c.live = true
	for s := range c.subs {
		s.resync()
	}
}

// deliver queues payload for every local subscriber of channel.
func (r *Redis) deliver(channel, payload string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.chans[channel]
	if c == nil {
		return // UNSUBSCRIBE in flight
	}
	if r.DropRate > 0 && rand.Float64() < r.DropRate {
		return
	}
	for s := range c.subs {
		// A copy per subscriber, never nil (nil means resync).
		msg := append(make([]byte, 0, len(payload)), payload...)
		if s.push(msg) {
			r.log.Warn().Str("channel", channel).Int("queue", r.queueLen).
				Msg("fanout: subscriber fell behind; dropping messages until it catches up")
		}
	}
}

// Close unsubscribes everything by closing the PubSub connections, waits
// for their receive loops to end, then stops every subscription's
// goroutine, waiting for running calls to return. Later Publish and
// Subscribe calls fail with ErrClosed. It does not close the client, and
// must not be called from a subscriber's fn.
func (r *Redis) Close() error {
	r.closeOnce.Do(func() {
		r.cmdMu.Lock()
		r.mu.Lock()
		r.closed = true
		chans := r.chans
		r.chans = make(map[string]*redisChan)
		r.mu.Unlock()
		if r.classic != nil {
			if err := r.classic.Close(); err != nil {
				r.closeErr = fmt.Errorf("fanout: close redis pubsub: %w", err)
			}
			r.classic = nil
		}
		for _, c := range r.shards {
			r.closeShard(c)
		}
		clear(r.slotConns)
		r.cmdMu.Unlock()
		if r.cluster != nil {
			close(r.repairStop)
			<-r.repairDone
		}
		r.loops.Wait()
		for _, c := range chans {
			for s := range c.subs {
				s.stopAndWait()
			}
		}
	})
	return r.closeErr
}
