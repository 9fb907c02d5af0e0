package fanout

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/redisopt"
	"github.com/collabedit/collab/redistest"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// bus is hub.Bus, declared here because hub imports this package.
type bus interface {
	Publish(ctx context.Context, channel string, msg []byte) error
	Subscribe(channel string, fn func(msg []byte)) (cancel func(), err error)
}

// Compile-time checks that both types have the hub.Bus method set.
var (
	_ bus = (*Memory)(nil)
	_ bus = (*Redis)(nil)
)

// wait bounds every expectation; generous because -race and a loaded CI
// machine slow redis round trips from ~0.1 ms to tens of ms.
const wait = 5 * time.Second

func newClient(t *testing.T, srv *redistest.Server) *redis.Client {
	t.Helper()
	opt, err := redisopt.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// newClusterClient returns a client of cluster c, closed at cleanup.
func newClusterClient(t testing.TB, c *redistest.Cluster) *redis.ClusterClient {
	t.Helper()
	opt, err := redisopt.ParseCluster(c.URL())
	if err != nil {
		t.Fatal(err)
	}
	cc := redis.NewClusterClient(opt)
	t.Cleanup(func() { cc.Close() })
	return cc
}

// clusterBus is a bus on the shared cluster that renames every channel:
// prefixed with the test's name, so tests sharing the cluster do not hear
// each other, and in a hash tag if tag is set, so that the behaviour
// tests run on sharded pub/sub (each channel on its own slot) as well as
// on classic pub/sub.
type clusterBus struct {
	*Redis
	prefix string
	tag    bool
}

func newClusterBus(t *testing.T, tag bool) clusterBus {
	t.Helper()
	r := newRedisBus(t, newClusterClient(t, redistest.SharedCluster(t)))
	return clusterBus{Redis: r, prefix: t.Name() + ":", tag: tag}
}

func (b clusterBus) name(channel string) string {
	if b.tag {
		return "{" + b.prefix + channel + "}"
	}
	return b.prefix + channel
}

func (b clusterBus) Publish(ctx context.Context, channel string, msg []byte) error {
	return b.Redis.Publish(ctx, b.name(channel), msg)
}

func (b clusterBus) Subscribe(channel string, fn func([]byte)) (func(), error) {
	return b.Redis.Subscribe(b.name(channel), fn)
}

func TestMain(m *testing.M) {
	code := m.Run()
	redistest.StopSharedCluster()
	os.Exit(code)
}

func newRedisBus(t testing.TB, c redis.UniversalClient) *Redis {
	t.Helper()
	r := NewRedis(c, zerolog.Nop())
	t.Cleanup(func() { r.Close() })
	return r
}

// impls makes a fresh bus of each kind; the Redis one gets its own server.
var impls = []struct {
	name string
	make func(t *testing.T) bus
}{
	{"memory", func(t *testing.T) bus {
		m := NewMemory()
		t.Cleanup(func() { m.Close() })
		return m
	}},
	{"redis", func(t *testing.T) bus {
		return newRedisBus(t, newClient(t, redistest.Start(t)))
	}},
	{"cluster-sharded", func(t *testing.T) bus { return newClusterBus(t, true) }},
	{"cluster-classic", func(t *testing.T) bus { return newClusterBus(t, false) }},
}

// recorder collects what a subscription receives. A nil message is kept
// as nil.
type recorder struct{ ch chan []byte }

func newRecorder() *recorder { return &recorder{ch: make(chan []byte, 4096)} }

func (r *recorder) fn(msg []byte) { r.ch <- msg }

// next returns the next delivery or fails after wait.
func (r *recorder) next(t *testing.T) []byte {
	t.Helper()
	select {
	case m := <-r.ch:
		return m
	case <-time.After(wait):
		t.Fatal("timed out waiting for a delivery")
		return nil
	}
}

func (r *recorder) expectNil(t *testing.T) {
	t.Helper()
	if m := r.next(t); m != nil {
		t.Fatalf("got message %q, want fn(nil)", m)
	}
}

func (r *recorder) expectMsg(t *testing.T, want string) {
	t.Helper()
	m := r.next(t)
	if m == nil {
		t.Fatalf("got fn(nil), want %q", want)
	}
	if string(m) != want {
		t.Fatalf("got %q, want %q", m, want)
	}
}

// expectNone fails if anything is delivered within d.
func (r *recorder) expectNone(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case m := <-r.ch:
		t.Fatalf("unexpected delivery %q (nil=%v)", m, m == nil)
	case <-time.After(d):
	}
}

func subscribe(t *testing.T, b bus, channel string, fn func([]byte)) func() {
	t.Helper()
	cancel, err := b.Subscribe(channel, fn)
	if err != nil {
		t.Fatalf("subscribe %q: %v", channel, err)
	}
	t.Cleanup(cancel)
	return cancel
}

func publish(t *testing.T, b bus, channel, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := b.Publish(ctx, channel, []byte(msg)); err != nil {
		t.Fatalf("publish %q: %v", channel, err)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			b := impl.make(t)
			a, other := newRecorder(), newRecorder()
			subscribe(t, b, "doc:a", a.fn)
			subscribe(t, b, "doc:b", other.fn)
			a.expectNil(t)
			other.expectNil(t)

			buf := []byte("one")
			if err := b.Publish(context.Background(), "doc:a", buf); err != nil {
				t.Fatal(err)
			}
			copy(buf, "XXX") // the bus must have copied it
			publish(t, b, "doc:a", "two")
			publish(t, b, "doc:a", "")
			publish(t, b, "nobody", "lost")
			a.expectMsg(t, "one")
			a.expectMsg(t, "two")
			if m := a.next(t); m == nil || len(m) != 0 {
				t.Fatalf("empty message delivered as %q (nil=%v), want non-nil empty", m, m == nil)
			}
			other.expectNone(t, 100*time.Millisecond)
		})
	}
}

func TestFanOutToLocalSubscribers(t *testing.T) {
	t.Parallel()
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			b := impl.make(t)
			recs := []*recorder{newRecorder(), newRecorder(), newRecorder()}
			for _, r := range recs {
				subscribe(t, b, "doc", r.fn)
				r.expectNil(t)
			}
			for i := 0; i < 50; i++ {
				publish(t, b, "doc", fmt.Sprint(i))
			}
			for _, r := range recs {
				for i := 0; i < 50; i++ {
					r.expectMsg(t, fmt.Sprint(i)) // in publish order
				}
			}
		})
	}
}

func TestUnsubscribe(t *testing.T) {
	t.Parallel()
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			b := impl.make(t)
			gone, stays := newRecorder(), newRecorder()
			cancel := subscribe(t, b, "doc", gone.fn)
			subscribe(t, b, "doc", stays.fn)
			gone.expectNil(t)
			stays.expectNil(t)
			cancel()
			cancel() // idempotent
			publish(t, b, "doc", "after")
			stays.expectMsg(t, "after")
			gone.expectNone(t, 200*time.Millisecond)
		})
	}
}

func TestCancelWaitsForRunningCall(t *testing.T) {
	t.Parallel()
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			b := impl.make(t)
			entered, release := make(chan struct{}), make(chan struct{})
			var running atomic.Bool
			cancel := subscribe(t, b, "doc", func(msg []byte) {
				if msg == nil {
					return
				}
				running.Store(true)
				close(entered)
				<-release
				running.Store(false)
			})
			publish(t, b, "doc", "x")
			select {
			case <-entered:
			case <-time.After(wait):
				t.Fatal("fn not called")
			}
			done := make(chan struct{})
			go func() { cancel(); close(done) }()
			select {
			case <-done:
				t.Fatal("cancel returned while fn was running")
			case <-time.After(100 * time.Millisecond):
			}
			close(release)
			select {
			case <-done:
			case <-time.After(wait):
				t.Fatal("cancel did not return after fn did")
			}
			if running.Load() {
				t.Fatal("fn still running after cancel returned")
			}
		})
	}
}

// A subscriber stuck in fn must not delay a subscriber of another channel:
// neither Publish nor the Redis receive loop may wait for fn.
func TestSlowSubscriberDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			b := impl.make(t)
			release := make(chan struct{})
			defer close(release) // before the cleanup cancels, so they can return
			subscribe(t, b, "slow", func(msg []byte) {
				if msg != nil {
					<-release
				}
			})
			fast := newRecorder()
			subscribe(t, b, "fast", fast.fn)
			fast.expectNil(t)
			for i := 0; i < 10; i++ {
				publish(t, b, "slow", "x")
			}
			start := time.Now()
			publish(t, b, "fast", "hi")
			select {
			case m := <-fast.ch:
				if string(m) != "hi" {
					t.Fatalf("got %q", m)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("fast subscriber starved by a slow one")
			}
			if d := time.Since(start); d > time.Second {
				t.Fatalf("fast subscriber took %v", d)
			}
		})
	}
}

// A subscriber more than queueLen messages behind loses messages and then
// gets fn(nil), after what was queued before the loss.
func TestOverflowDropsThenResyncs(t *testing.T) {
	t.Parallel()
	const small = 4
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			b := impl.make(t)
			// witness gets every message (its queue has the default
			// length): once it has all of them, the bus has offered all
			// of them to slow too.
			witness := newRecorder()
			subscribe(t, b, "doc", witness.fn)
			witness.expectNil(t)

			switch b := b.(type) {
			case *Memory:
				b.queueLen = small
			case *Redis:
				b.mu.Lock()
				b.queueLen = small
				b.mu.Unlock()
			case clusterBus:
				b.mu.Lock()
				b.queueLen = small
				b.mu.Unlock()
			}
			entered, release := make(chan struct{}), make(chan struct{})
			var blockOnce, releaseOnce sync.Once
			slow := newRecorder()
			subscribe(t, b, "doc", func(msg []byte) {
				if msg != nil {
					blockOnce.Do(func() { close(entered); <-release })
				}
				slow.fn(msg)
			})
			// Runs before the cancel registered above, even on failure.
			t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
			slow.expectNil(t)

			publish(t, b, "doc", "0")
			<-entered
			const n = 20
			for i := 1; i < n; i++ {
				publish(t, b, "doc", fmt.Sprint(i))
			}
			for i := 0; i < n; i++ {
				witness.expectMsg(t, fmt.Sprint(i))
			}
			// The witness may have the last message before the bus pushed
			// it to slow (deliver pushes to each subscriber in turn under
			// mu): taking mu waits for that delivery to finish. (Memory
			// delivers within Publish.)
			switch b := b.(type) {
			case *Redis:
				b.mu.Lock()
				b.mu.Unlock()
			case clusterBus:
				b.mu.Lock()
				b.mu.Unlock()
			}
			releaseOnce.Do(func() { close(release) })

			slow.expectMsg(t, "0")
			for i := 1; i <= small; i++ {
				slow.expectMsg(t, fmt.Sprint(i)) // queued before the loss
			}
			slow.expectNil(t) // then the resync
			slow.expectNone(t, 100*time.Millisecond)

			// Caught up: live messages flow again.
			publish(t, b, "doc", "live")
			slow.expectMsg(t, "live")
		})
	}
}

func TestClosedBus(t *testing.T) {
	t.Parallel()
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			b := impl.make(t)
			r := newRecorder()
			cancel := subscribe(t, b, "doc", r.fn)
			r.expectNil(t)
			if err := b.(interface{ Close() error }).Close(); err != nil {
				t.Fatal(err)
			}
			cancel() // after Close: must not hang or panic
			if err := b.Publish(context.Background(), "doc", []byte("x")); err != ErrClosed {
				t.Fatalf("Publish after Close: %v, want ErrClosed", err)
			}
			if _, err := b.Subscribe("doc", r.fn); err != ErrClosed {
				t.Fatalf("Subscribe after Close: %v, want ErrClosed", err)
			}
		})
	}
}

func numSub(t *testing.T, c *redis.Client, channel string) int64 {
	t.Helper()
	n, err := c.PubSubNumSub(context.Background(), channel).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n[channel]
}

func TestRedisOneSubscriptionPerChannelPerProcess(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	admin := newClient(t, srv)
	b1 := newRedisBus(t, newClient(t, srv))
	b2 := newRedisBus(t, newClient(t, srv)) // a second process

	var cancels []func()
	for i := 0; i < 3; i++ {
		r := newRecorder()
		cancels = append(cancels, subscribe(t, b1, "doc", r.fn))
		r.expectNil(t) // confirmed by Redis
	}
	if n := numSub(t, admin, "doc"); n != 1 {
		t.Fatalf("PUBSUB NUMSUB with 3 local subscribers on one bus = %d, want 1", n)
	}

	r2 := newRecorder()
	subscribe(t, b2, "doc", r2.fn)
	r2.expectNil(t)
	if n := numSub(t, admin, "doc"); n != 2 {
		t.Fatalf("PUBSUB NUMSUB with two buses = %d, want 2", n)
	}

	cancels[0]()
	cancels[1]()
	// Still one local subscriber on b1: its Redis subscription stays. The
	// publish below is a barrier: had b1 sent UNSUBSCRIBE, Redis would
	// have processed it before this round trip on the same server.
	publish(t, b1, "other", "barrier")
	if n := numSub(t, admin, "doc"); n != 2 {
		t.Fatalf("PUBSUB NUMSUB after cancelling 2 of 3 = %d, want 2", n)
	}
	cancels[2]()
	// UNSUBSCRIBE is not confirmed to the caller, so Redis's count lags
	// cancel a little.
	poll.Until(t, "NUMSUB 1 after the last local cancel", func() bool { return numSub(t, admin, "doc") == 1 })
}

func TestRedisReconnectResyncs(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	b := newRedisBus(t, newClient(t, srv))
	r1, r2 := newRecorder(), newRecorder()
	subscribe(t, b, "doc:1", r1.fn)
	subscribe(t, b, "doc:2", r2.fn)
	r1.expectNil(t)
	r2.expectNil(t)
	publish(t, b, "doc:1", "before")
	r1.expectMsg(t, "before")

	srv.Kill()

	// Publishing during the outage fails promptly, even with a patient
	// ctx, thanks to the timeouts set by redisopt.Parse.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	start := time.Now()
	err := b.Publish(ctx, "doc:1", []byte("lost"))
	cancel()
	if err == nil {
		t.Fatal("Publish succeeded while redis was down")
	}
	t.Logf("publish during outage failed after %v: %v", time.Since(start), err)
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Fatalf("Publish during outage took %v to fail (%v), want ~2 s at most", d, err)
	}

	srv.Restart()

	// go-redis reconnects and re-subscribes; the confirmations become
	// fn(nil) for every subscriber.
	r1.expectNil(t)
	r2.expectNil(t)

	// The first PUBLISH may meet a pooled connection to the dead server;
	// MaxRetries covers that, but allow a second try anyway.
	ctx, cancel = context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := b.Publish(ctx, "doc:2", []byte("after")); err != nil {
		if err := b.Publish(ctx, "doc:2", []byte("after")); err != nil {
			t.Fatalf("publish after restart: %v", err)
		}
	}
	r2.expectMsg(t, "after")
	r1.expectNone(t, 100*time.Millisecond)
}

func TestRedisSubscribeWhileDown(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	b := newRedisBus(t, newClient(t, srv))
	srv.Kill()
	r := newRecorder()
	subscribe(t, b, "doc", r.fn) // must not fail: takes effect on reconnect
	r.expectNone(t, 200*time.Millisecond)
	srv.Restart()
	r.expectNil(t)
	publish(t, b, "doc", "hello")
	r.expectMsg(t, "hello")
}

func TestRedisDropRate(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	lossy := newRedisBus(t, newClient(t, srv))
	lossy.DropRate = 1.0
	clean := newRedisBus(t, newClient(t, srv))

	dropped, witness := newRecorder(), newRecorder()
	subscribe(t, lossy, "doc", dropped.fn)
	subscribe(t, clean, "doc", witness.fn)
	dropped.expectNil(t) // confirmations are not messages: never dropped
	witness.expectNil(t)
	for i := 0; i < 20; i++ {
		publish(t, clean, "doc", fmt.Sprint(i))
	}
	for i := 0; i < 20; i++ {
		witness.expectMsg(t, fmt.Sprint(i))
	}
	dropped.expectNone(t, 300*time.Millisecond)
}

// The queue must keep fn(nil) markers in order and collapse adjacent ones.
func TestSubQueueMarkers(t *testing.T) {
	t.Parallel()
	s := newSub(func([]byte) {}, 2)
	s.resync()
	s.resync() // collapsed
	s.push([]byte("a"))
	s.push([]byte("b")) // dropped: the marker counts towards max
	s.push([]byte("c")) // dropped
	var got []string
	for {
		m, ok := s.pop()
		if !ok {
			break
		}
		if m == nil {
			got = append(got, "<nil>")
		} else {
			got = append(got, string(m))
		}
	}
	want := "[<nil> a <nil>]"
	if fmt.Sprint(got) != want {
		t.Fatalf("got %v, want %s", got, want)
	}
}

// TestPublishBatchInOrder: a pipelined batch reaches each channel's
// subscribers in the order given.
func TestPublishBatchInOrder(t *testing.T) {
	t.Parallel()
	b := newRedisBus(t, newClient(t, redistest.Start(t)))
	x, y := newRecorder(), newRecorder()
	subscribe(t, b, "x", x.fn)
	subscribe(t, b, "y", y.fn)
	x.expectNil(t)
	y.expectNil(t)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	err := b.PublishBatch(ctx, []string{"x", "y", "x", "x"}, [][]byte{[]byte("1"), []byte("a"), []byte("2"), []byte("3")})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1", "2", "3"} {
		x.expectMsg(t, want)
	}
	y.expectMsg(t, "a")
}
