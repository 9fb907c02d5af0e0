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
// Redis server. Each Publish is one PUBLISH. All subscriptions of a Redis
// share one PubSub connection, subscribed once to each channel that has
// local subscribers; see the package doc for the goroutines.
//
// go-redis re-establishes the PubSub connection after an outage and
// re-subscribes to every channel; Redis answers each SUBSCRIBE with a
// "subscribe" confirmation, which is how this bus knows the subscription
// is live again and tells every local subscriber of the channel fn(nil).
type Redis struct {
	// DropRate is for tests only: the probability in [0, 1] that a
	// message received from Redis is silently dropped before delivery, to
	// prove that subscribers detect gaps. Set it before the first
	// Subscribe and leave it alone afterwards; it is not synchronised.
	DropRate float64

	client   *redis.Client
	log      zerolog.Logger
	ps       *redis.PubSub
	queueLen int // per-subscription backlog; a field so tests can shrink it
	loopDone chan struct{}

	// cmdMu orders each refcount change with its SUBSCRIBE or UNSUBSCRIBE,
	// so a cancel racing a Subscribe of the same channel cannot leave
	// Redis unsubscribed from a channel that has local subscribers. It is
	// held across network writes; mu never is, so the receive loop is
	// never delayed by them.
	cmdMu sync.Mutex

	mu     sync.Mutex
	chans  map[string]*redisChan
	closed bool

	closeOnce sync.Once
	closeErr  error
}

// redisChan is the local state of one subscribed channel.
type redisChan struct {
	subs map[*sub]struct{}
	// live is set by the first "subscribe" confirmation from Redis. A
	// later confirmation while live means go-redis re-subscribed after
	// reconnecting.
	live bool
}

// NewRedis returns a bus publishing with client and receiving on one
// PubSub connection of client, and starts its receive loop. client stays
// the caller's: Close does not close it. Build it from redisopt.Parse so
// Publish fails promptly while Redis is down.
func NewRedis(client *redis.Client, log zerolog.Logger) *Redis {
	r := &Redis{
		client:   client,
		log:      log,
		ps:       client.Subscribe(context.Background()), // no channels yet, no I/O
		queueLen: queueLen,
		loopDone: make(chan struct{}),
		chans:    make(map[string]*redisChan),
	}
	// ChannelWithSubscriptions (not Channel) because it also yields the
	// *redis.Subscription confirmations that reveal a re-subscription.
	// Its buffer of 1024 absorbs bursts while the loop holds mu; the loop
	// never blocks on subscribers, so go-redis's 60 s send timeout (after
	// which it drops a message) is never reached in practice.
	ch := r.ps.ChannelWithSubscriptions(redis.WithChannelSize(1024))
	go r.loop(ch)
	return r
}

// Publish sends msg on channel with one PUBLISH. With the options of
// redisopt.Parse it fails within about 2 s while Redis is unreachable,
// sooner if ctx ends.
func (r *Redis) Publish(ctx context.Context, channel string, msg []byte) error {
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if err := r.client.Publish(ctx, channel, msg).Err(); err != nil {
		return fmt.Errorf("fanout: publish %q: %w", channel, err)
	}
	return nil
}

// PublishBatch sends msgs[i] to channels[i], in order, in one pipelined
// round trip. A publisher with many messages queued (a hot document) pays
// one network round trip per batch instead of one per message: at ~100 µs
// a round trip, unbatched publishing caps one ordered stream near 10k/s.
func (r *Redis) PublishBatch(ctx context.Context, channels []string, msgs [][]byte) error {
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return ErrClosed
	}
	pipe := r.client.Pipeline()
	for i, ch := range channels {
		pipe.Publish(ctx, ch, msgs[i])
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("fanout: publish batch of %d: %w", len(msgs), err)
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
		err := r.ps.Subscribe(ctx, channel)
		done()
		if err != nil {
			// go-redis keeps the channel in its set even when the write
			// fails, and subscribes to it when it reconnects; the
			// confirmation then triggers fn(nil).
			r.log.Warn().Err(err).Str("channel", channel).
				Msg("fanout: redis subscribe failed; will subscribe on reconnect")
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
		ctx, done := context.WithTimeout(context.Background(), subscribeTimeout)
		// On failure go-redis has still forgotten the channel, so it is
		// not re-subscribed on reconnect; a dead connection has dropped
		// the subscription anyway.
		if err := r.ps.Unsubscribe(ctx, channel); err != nil {
			r.log.Debug().Err(err).Str("channel", channel).Msg("fanout: redis unsubscribe failed")
		}
		done()
	}
	r.cmdMu.Unlock()
	s.stopAndWait()
}

// loop routes what the PubSub connection receives to the local
// subscribers' queues until Close closes the PubSub, which closes ch.
func (r *Redis) loop(ch <-chan any) {
	defer close(r.loopDone)
	for m := range ch {
		switch m := m.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				r.confirmed(m.Channel)
			}
		case *redis.Message:
			r.deliver(m)
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

// deliver queues m for every local subscriber of its channel.
func (r *Redis) deliver(m *redis.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.chans[m.Channel]
	if c == nil {
		return // UNSUBSCRIBE in flight
	}
	if r.DropRate > 0 && rand.Float64() < r.DropRate {
		return
	}
	for s := range c.subs {
		// A copy per subscriber, never nil (nil means resync).
		msg := append(make([]byte, 0, len(m.Payload)), m.Payload...)
		if s.push(msg) {
			r.log.Warn().Str("channel", m.Channel).Int("queue", r.queueLen).
				Msg("fanout: subscriber fell behind; dropping messages until it catches up")
		}
	}
}

// Close unsubscribes everything by closing the shared PubSub connection,
// waits for the receive loop to end, then stops every subscription's
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
		if err := r.ps.Close(); err != nil {
			r.closeErr = fmt.Errorf("fanout: close redis pubsub: %w", err)
		}
		r.cmdMu.Unlock()
		<-r.loopDone
		for _, c := range chans {
			for s := range c.subs {
				s.stopAndWait()
			}
		}
	})
	return r.closeErr
}
