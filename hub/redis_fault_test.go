package hub_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/collabedit/collab/fanout"
	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/hub/hubtest"
	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/internal/testrand"
	"github.com/collabedit/collab/lease"
	"github.com/collabedit/collab/presence"
	"github.com/collabedit/collab/protocol"
	"github.com/collabedit/collab/redisopt"
	"github.com/collabedit/collab/redistest"
)

// startRedisHubs runs n hubs as n processes would, sharing one log file
// and one real Redis (bus, leases with ttl, presence).
func startRedisHubs(t *testing.T, n int, ttl time.Duration) (*redistest.Server, []*testServer) {
	t.Helper()
	srv := redistest.Start(t)
	return srv, startHubsOn(t, srv.URL(), n, ttl)
}

// startHubsOn runs n hubs as n processes would, sharing one log file and
// the Redis at url (one server, or a cluster: redisopt.NewClient), each
// with its own client: bus, leases with ttl, presence.
func startHubsOn(t *testing.T, url string, n int, ttl time.Duration) []*testServer {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() && testing.Verbose() {
			t.Logf("hub logs:\n%s", logs.String())
		}
	})
	var hubs []*testServer
	for i := 0; i < n; i++ {
		rc, _, err := redisopt.NewClient(url)
		if err != nil {
			t.Fatal(err)
		}
		bus := fanout.NewRedis(rc, zerolog.Nop())
		t.Cleanup(func() { _ = bus.Close(); _ = rc.Close() })
		hubs = append(hubs, hubtest.StartAt(t, path, hub.Config{
			Bus: bus, Leases: lease.NewRedis(rc, ttl), Presence: presence.NewRedis(rc),
			ProcessID: fmt.Sprintf("p%d", i), ClusterTick: 25 * time.Millisecond,
			PositionCheck: 200 * time.Millisecond, ForwardRetry: 200 * time.Millisecond,
			Logger: zerolog.New(logs).Level(zerolog.DebugLevel),
		}))
	}
	return hubs
}

// orderReader is a raw socket that checks protocol §6 from the client's
// side: after the snapshot, every op arrives at exactly the next version.
type orderReader struct {
	version    atomic.Int64
	violations atomic.Int64
	snapshots  atomic.Int64 // sent unasked after a reload
	err        atomic.Value // string: why reading stopped
	first      atomic.Value // string: the first violation
	done       chan struct{}
}

func readOrder(t *testing.T, url, doc string) *orderReader {
	t.Helper()
	c := dial(t, url)
	snap := c.open(doc)
	_ = c.ws.SetReadDeadline(time.Time{}) // open set one; this reader waits as long as the test runs
	o := &orderReader{done: make(chan struct{})}
	o.version.Store(snap.Version)
	go func() {
		defer close(o.done)
		for {
			_, data, err := c.ws.ReadMessage()
			if err != nil {
				o.err.Store(err.Error())
				return
			}
			m, err := protocol.DecodeMessage(data)
			if err == nil && m.Type == protocol.TypeSnapshot {
				o.snapshots.Add(1)
				o.version.Store(m.Version)
				continue
			}
			if err != nil || m.Type != protocol.TypeOp {
				continue
			}
			if want := o.version.Load(); m.Version != want {
				if o.violations.Add(1) == 1 {
					o.first.Store(fmt.Sprintf("op %s at version %d, expected %d", m.ID, m.Version, want))
				}
				if m.Version < want {
					continue
				}
			}
			o.version.Store(m.Version + 1)
		}
	}()
	t.Cleanup(func() { _ = c.ws.Close(); <-o.done })
	return o
}

func (o *orderReader) check(t *testing.T, who string) {
	t.Helper()
	select {
	case <-o.done:
		t.Errorf("%s stopped reading: %v", who, o.err.Load())
	default:
	}
	if n := o.violations.Load(); n > 0 {
		t.Errorf("%s: %d out-of-order or repeated versions; first: %v", who, n, o.first.Load())
	}
}

// probeAck opens doc on a fresh socket and sends one op until it is
// acked, retrying on unavailable; it returns how long that took.
func probeAck(t *testing.T, url, doc, id string, deadline time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("probe dial: %v", err)
	}
	defer ws.Close()
	send := func(s string) {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
			t.Fatalf("probe send: %v", err)
		}
	}
	send(`{"type":"open","doc":"` + doc + `"}`)
	version := int64(-1)
	for time.Since(start) < deadline {
		_ = ws.SetReadDeadline(start.Add(deadline))
		_, data, err := ws.ReadMessage()
		if err != nil {
			break
		}
		m, _ := protocol.DecodeMessage(data)
		switch {
		case m.Type == protocol.TypeSnapshot, m.Type == protocol.TypeOp:
			version = m.Version
			if m.Type == protocol.TypeOp {
				version++
			}
			if m.Type == protocol.TypeSnapshot {
				send(fmt.Sprintf(`{"type":"op","doc":"%s","version":%d,"id":"%s","op":["."]}`, doc, version, id))
			}
		case m.Type == protocol.TypeAck && m.ID == id:
			return time.Since(start)
		case m.Type == protocol.TypeError && m.Code == protocol.CodeUnavailable:
			time.Sleep(20 * time.Millisecond) // a client's retry backoff, as real clients do on unavailable
			send(fmt.Sprintf(`{"type":"op","doc":"%s","version":%d,"id":"%s","op":["."]}`, doc, version, id))
		case m.Type == protocol.TypeError:
			t.Fatalf("probe on %s: %+v", url, m)
		}
	}
	t.Fatalf("document %s on %s accepted no op within %v of the fault's end", doc, url, deadline)
	return 0
}

// TestRedisPauseHeals: editors on two processes edit two documents while
// Redis is stopped (SIGSTOP) for three lease TTLs, three times over.
// After each pause every document accepts ops on every process within two
// TTLs; no reader ever sees a version twice or out of order; in the end
// every editor, every process and the log agree, and every acknowledged
// op is in the log once. Before ownership came from the lease store alone,
// two processes ended up each following the other and the document
// refused every op for good.
func TestRedisPauseHeals(t *testing.T) {
	// Not parallel: it bounds healing at two compressed lease TTLs (1.2 s),
	// which a test running beside it on 2 cores under -race can eat. Other
	// packages' tests still run beside it in CI: each probe gets a second
	// more (healing takes 0.1-0.7 s here; a frozen document never heals).
	const ttl, cycles = 600 * time.Millisecond, 4
	seed := testrand.Seed(t)
	rds, hubs := startRedisHubs(t, 3, ttl)
	docs := []string{"d0", "d1"}
	var eds []*editor
	var readers []*orderReader
	for _, doc := range docs {
		for _, h := range hubs {
			eds = append(eds, newEditor(t, h.URL, doc))
			readers = append(readers, readOrder(t, h.URL, doc))
		}
	}
	stopTyping := typeAway(t, eds, seed, 2*time.Millisecond, 10*time.Millisecond)
	for cycle := 0; cycle < cycles; cycle++ {
		time.Sleep(300 * time.Millisecond) // editing before the fault
		rds.Pause()
		time.Sleep(3 * ttl) // the fault: Redis paused past every lease
		rds.Resume()
		var worst time.Duration
		for _, doc := range docs {
			for i, h := range hubs {
				worst = max(worst, probeAck(t, h.URL, doc, fmt.Sprintf("probe-%d-%d:%s", cycle, i, doc), 2*ttl+time.Second))
			}
		}
		t.Logf("pause %d: every document accepted an op on every process within %v", cycle, worst)
	}
	stopTyping()
	byDoc := map[string][]*editor{}
	for i, e := range eds {
		byDoc[docs[i/len(hubs)]] = append(byDoc[docs[i/len(hubs)]], e)
	}
	for _, doc := range docs {
		text, version := waitConverged(t, byDoc[doc])
		var acked int64
		for _, e := range byDoc[doc] {
			acked += e.acks.Load()
		}
		probes := int64(cycles * len(hubs))
		if version != acked+probes {
			t.Errorf("%s: log at version %d, but %d editor ops and %d probes were acked: an op was lost or applied twice", doc, version, acked, probes)
		}
		for _, h := range hubs {
			checkServerAgrees(t, h, doc, text, version)
		}
		for i, o := range readers {
			if docs[i/len(hubs)] == doc {
				poll.Until(t, fmt.Sprintf("reader %d of %s to reach version %d (at %d, %d violations: %v, %d snapshots)", i, doc, version, o.version.Load(), o.violations.Load(), o.first.Load(), o.snapshots.Load()), func() bool { return o.version.Load() == version })
			}
		}
	}
	for i, o := range readers {
		o.check(t, fmt.Sprintf("reader %d", i))
	}
	st := hubs[0].Hub.Stats()
	t.Logf("p0 ownership transitions: %v", st.Transitions)
}

// syncBuffer collects logs from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}

// TestStaleLeaseCommandHeals: when Redis resumes after a pause (or
// restarts), lease commands sent during the outage and long given up by
// their senders can still run, so the lease may end up held by a process
// that never heard it got it. Here p1's stale acquire lands while p0 owns
// the document and p1 follows it. p0 must stand down and p1 must notice
// it holds the lease; before ownership was taken only from the store's
// answers, p0 followed p1 and p1 followed p0, and the document refused
// every op on both until the processes were restarted.
func TestStaleLeaseCommandHeals(t *testing.T) {
	// Not parallel: it bounds healing at two compressed lease TTLs (1.2 s),
	// which a test running beside it on 2 cores under -race can eat.
	const ttl = 500 * time.Millisecond
	rds, hubs := startRedisHubs(t, 2, ttl)
	a, b := dial(t, hubs[0].URL), dial(t, hubs[1].URL)
	a.open("d") // p0 loads d first and owns it
	a.send(`{"type":"op","doc":"d","version":0,"id":"a:1","op":["x"]}`)
	a.expect("ack")
	b.open("d")
	b.send(`{"type":"op","doc":"d","version":1,"id":"b:1","op":["y"]}`)
	if m := b.expect("ack"); m.Version != 1 {
		t.Fatalf("b's op acked at %d", m.Version)
	}
	if hubs[1].Hub.Stats().Forwarded == 0 {
		t.Fatal("p1 sequenced d itself: the test needs it following p0")
	}
	rc := redis.NewClient(&redis.Options{Addr: rds.Addr()})
	defer rc.Close()
	if err := rc.Set(context.Background(), "collab:lease:d", "p1", ttl).Err(); err != nil {
		t.Fatal(err)
	}
	// Within two TTLs both processes must serve ops again, and go on doing
	// so for several more.
	time.Sleep(2 * ttl) // the subject is healing within two TTLs, so the clock must pass them
	for i := 0; i < 3; i++ {
		for j, h := range hubs {
			probeAck(t, h.URL, "d", fmt.Sprintf("probe-%d-%d", i, j), 2*ttl)
		}
		time.Sleep(ttl) // and keep serving over several more lease periods
	}
	if h, _ := rc.Get(context.Background(), "collab:lease:d").Result(); h != "p1" && h != "p0" {
		t.Fatalf("lease held by %q: nobody renews it", h)
	}
}

// typeAway has every editor make random edits, waiting pause plus up to
// spread between two (a typist's pace, not a wait for anything), until
// the returned stop is called; stop waits for them all.
func typeAway(t *testing.T, eds []*editor, seed uint64, pause, spread time.Duration) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i, e := range eds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			for {
				select {
				case <-done:
					return
				case <-time.After(pause + time.Duration(rng.Int64N(int64(spread)))):
				}
				if err := randomEdit(rng, e.d); err != nil {
					t.Errorf("editor %d: %v", i, err)
					return
				}
			}
		}()
	}
	return func() {
		close(done)
		wg.Wait()
	}
}
