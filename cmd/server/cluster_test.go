package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/collabedit/collab/client"
	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/eventlog/postgres"
	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/internal/testrand"
	"github.com/collabedit/collab/pgtest"
	"github.com/collabedit/collab/protocol"
	"github.com/collabedit/collab/redistest"
	"github.com/collabedit/collab/servertest"
)

// cluster is several server processes sharing one event log and one Redis,
// or one Redis Cluster. The log is one SQLite file in a shared data
// directory, or, for "hosts", PostgreSQL: each process then has its own
// data directory and shares nothing but PostgreSQL and Redis, reached
// over TCP.
type cluster struct {
	dir    string             // the shared data directory; "" for hosts
	pg     *pgtest.Server     // hosts: their PostgreSQL
	store  string             // hosts: the -store URL
	redis  *redistest.Server  // nil on a Redis Cluster
	shards *redistest.Cluster // nil on one Redis
	procs  []*servertest.Server
	acked  *acks // while runClusterEdits runs: every acknowledged op
}

func startCluster(t *testing.T, n int, extra ...string) *cluster {
	t.Helper()
	cl := &cluster{dir: t.TempDir(), redis: redistest.Start(t)}
	cl.start(t, n, cl.redis.URL(), extra)
	return cl
}

// startOnRedisCluster is startCluster with a Redis Cluster of 3 masters
// with a replica each, given to the servers as -redis-url
// redis+cluster://….
func startOnRedisCluster(t *testing.T, n int, extra ...string) *cluster {
	t.Helper()
	cl := &cluster{dir: t.TempDir(), shards: redistest.StartCluster(t, 3, 1)}
	cl.start(t, n, cl.shards.URL(), extra)
	return cl
}

func (cl *cluster) start(t *testing.T, n int, url string, extra []string) {
	t.Helper()
	args := append([]string{"-redis-url", url,
		"-lease-ttl", "1s", "-log-level", "warn", "-advertise-url", "auto"}, extra...)
	if cl.store == "" {
		cl.procs = servertest.StartCluster(t, n, cl.dir, args...)
		return
	}
	args = append(args, "-store", cl.store)
	for i := range n {
		id := fmt.Sprintf("p%d", i)
		cl.procs = append(cl.procs, servertest.Start(t, servertest.Options{Name: id, Args: append([]string{"-process-id", id}, args...)}))
	}
}

// startHosts is startCluster with "hosts": processes with their own data
// directories sharing a PostgreSQL of the test's own (which a fault may
// stop) and one Redis, or a Redis Cluster.
func startHosts(onRedisCluster bool) func(t *testing.T, n int, extra ...string) *cluster {
	return func(t *testing.T, n int, extra ...string) *cluster {
		t.Helper()
		cl := &cluster{pg: pgtest.Start(t)}
		cl.store = cl.pg.DB(t)
		url := ""
		if onRedisCluster {
			cl.shards = redistest.StartCluster(t, 3, 1)
			url = cl.shards.URL()
		} else {
			cl.redis = redistest.Start(t)
			url = cl.redis.URL()
		}
		cl.start(t, n, url, extra)
		return cl
	}
}

// openLog opens the cluster's log for reading, beside the servers.
func (cl *cluster) openLog(t *testing.T) interface {
	Events(ctx context.Context, doc string, from int64, limit int) ([]eventlog.Event, error)
	Close() error
} {
	t.Helper()
	if cl.store != "" {
		s, err := postgres.Open(context.Background(), cl.store, postgres.Config{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s, err := eventlog.Open(filepath.Join(cl.dir, "events.db"), eventlog.Config{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// healTime measures, from the fault at start, how long until a new edit
// of doc through process proc is acknowledged: the time to heal as a
// user sees it (reconnects and backoff included). The edit counts as
// acknowledged for runClusterEdits' check.
func (cl *cluster) healTime(t *testing.T, proc int, doc string, start time.Time) time.Duration {
	t.Helper()
	d := dialDoc(t, cl.procs[proc].URL(), others(cl.urls(), proc), doc, false, cl.acked)
	if err := d.Edit(func(string) document.Op { return document.Op{{Insert: "·"}} }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := d.WaitSynced(ctx); err != nil {
		t.Fatalf("no edit of %s acknowledged %v after the fault: %v", doc, time.Since(start), err)
	}
	return time.Since(start)
}

func (cl *cluster) urls() []string {
	var out []string
	for _, p := range cl.procs {
		out = append(out, p.URL())
	}
	return out
}

// acks collects every acknowledged op id, across clients.
type acks struct {
	mu  sync.Mutex
	ids map[string]map[string]bool // doc → op ids
}

func (a *acks) add(doc, id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ids[doc] == nil {
		a.ids[doc] = make(map[string]bool)
	}
	a.ids[doc][id] = true
}

// TestCluster runs three processes with 30 clients spread over them editing
// three documents, under each failure in turn; afterwards every client of a
// document, and the shared log, agree, and every acknowledged op is in the
// log exactly once.
func TestCluster(t *testing.T) {
	t.Parallel()
	killHolder := func(t *testing.T, cl *cluster) {
		if h := cl.leaseHolder(t, "doc0"); h != "p0" {
			t.Fatalf("doc0's lease is held by %q before the kill, want p0 (its first opener)", h)
		}
		start := time.Now()
		cl.procs[0].Kill()
		cl.procs = cl.procs[1:]
		t.Logf("doc0 edited again %v after its owner was killed (lease TTL 1s)", cl.healTime(t, 0, "doc0", start).Round(time.Millisecond))
	}
	holderMoved := func(t *testing.T, cl *cluster, _ map[string]float64) {
		if h := cl.leaseHolder(t, "doc0"); h == "p0" || h == "" {
			t.Fatalf("doc0's lease is held by %q after p0 died, want a live process", h)
		}
	}
	tests := []struct {
		name  string
		extra []string
		fault func(t *testing.T, cl *cluster)
		check func(t *testing.T, cl *cluster, m map[string]float64)
		start func(t *testing.T, n int, extra ...string) *cluster
	}{
		{"steady", nil, nil, nil, startCluster},
		{"pubsub messages dropped", []string{"-test-drop-rate", "0.3"}, nil, func(t *testing.T, cl *cluster, m map[string]float64) {
			if m["collab_gaps_filled_total"] == 0 {
				t.Fatal("messages were dropped but no process filled a gap from the log")
			}
		}, startCluster},
		{"redis killed and restarted", nil, func(t *testing.T, cl *cluster) {
			cl.redis.Kill()
			time.Sleep(700 * time.Millisecond) // the outage's length, not a wait for anything
			cl.redis.Restart()
		}, nil, startCluster},
		{"process killed", nil, killHolder, holderMoved, startCluster},
		{"redis cluster", nil, nil, nil, startOnRedisCluster},
		{"redis cluster master killed", nil, func(t *testing.T, cl *cluster) {
			start := time.Now()
			cl.shards.KillMasterOf("{doc0}")
			t.Logf("doc0 edited again %v after its shard's master was killed", cl.healTime(t, 1, "doc0", start).Round(time.Millisecond))
		}, nil, startOnRedisCluster},
		{"hosts on postgres", nil, nil, nil, startHosts(false)},
		{"hosts: postgres restarted", nil, func(t *testing.T, cl *cluster) {
			start := time.Now()
			cl.pg.Stop()
			time.Sleep(2 * time.Second) // the outage's length
			cl.pg.Start(t)
			t.Logf("doc0 edited again %v after PostgreSQL stopped for 2s", cl.healTime(t, 1, "doc0", start).Round(time.Millisecond))
		}, nil, startHosts(false)},
		{"hosts: host killed", nil, killHolder, holderMoved, startHosts(false)},
		{"hosts on a redis cluster, master killed", nil, func(t *testing.T, cl *cluster) {
			start := time.Now()
			cl.shards.KillMasterOf("{doc0}")
			t.Logf("doc0 edited again %v after its shard's master was killed", cl.healTime(t, 1, "doc0", start).Round(time.Millisecond))
		}, nil, startHosts(true)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cl := tt.start(t, 3, tt.extra...)
			runClusterEdits(t, cl, tt.fault)
			m := servertest.SumMetrics(t, cl.procs...)
			if m["collab_ops_forwarded_total"] == 0 {
				t.Fatal("no op was forwarded to an owning process: the cluster path was not exercised")
			}
			if m["collab_opens_routed_total"] == 0 {
				t.Fatal("no open was routed to an owning process: the routing path was not exercised")
			}
			if tt.check != nil {
				tt.check(t, cl, m)
			}
			t.Logf("metrics summed over live processes: forwarded %v, gaps filled %v, publish failures %v",
				m["collab_ops_forwarded_total"], m["collab_gaps_filled_total"], m["collab_publish_failed_total"])
		})
	}
}

func (cl *cluster) leaseHolder(t *testing.T, doc string) string {
	t.Helper()
	rc := redis.NewClient(&redis.Options{Addr: cl.redis.Addr()})
	defer rc.Close()
	h, err := rc.Get(context.Background(), "collab:lease:"+doc).Result()
	if err != nil && err != redis.Nil {
		t.Fatalf("read lease: %v", err)
	}
	return h
}

func runClusterEdits(t *testing.T, cl *cluster, fault func(*testing.T, *cluster)) {
	const clients, docs, edits = 30, 3, 40
	seed := testrand.Seed(t)
	acked := &acks{ids: make(map[string]map[string]bool)}
	cl.acked = acked
	urls := cl.urls()
	ds := make([]*client.Doc, clients)
	// Client i dials process i%3 and edits document (i/3)%docs, so every
	// document has clients on every process. Odd clients follow the owner
	// (protocol §15), even ones stay where they dialled and are forwarded.
	for i := range ds {
		doc := fmt.Sprintf("doc%d", (i/len(urls))%docs)
		ds[i] = dialDoc(t, urls[i%len(urls)], others(urls, i%len(urls)), doc, i%2 == 1, acked)
	}
	var wg sync.WaitGroup
	var made atomic.Int64 // edits made so far, over all clients
	for i, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			for j := 0; j < edits; j++ {
				if err := d.Edit(func(text string) document.Op { return randomOp(rng, text) }); err != nil {
					t.Errorf("client %d: %v", i, err)
					return
				}
				made.Add(1)
				time.Sleep(time.Duration(5+rng.IntN(20)) * time.Millisecond) // a typist's pace, not a wait
			}
		}()
	}
	if fault != nil {
		// The fault strikes mid-run: once a quarter of the edits are made.
		poll.Until(t, "a quarter of the edits", func() bool { return made.Load() >= clients*edits/4 })
		fault(t, cl)
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i, d := range ds {
		if err := d.WaitSynced(ctx); err != nil {
			t.Fatalf("client %d never synced: %v", i, err)
		}
	}
	// The servers still run: open the log beside them.
	store := cl.openLog(t)
	defer store.Close()
	for k := 0; k < docs; k++ {
		doc := fmt.Sprintf("doc%d", k)
		text, version := logText(t, store, doc)
		func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for i := 0; i < clients; i++ {
				if (i/len(urls))%docs != k {
					continue
				}
				if !poll.Wait(ctx, func() bool { return ds[i].Version() == version && ds[i].Text() == text }) {
					t.Fatalf("%s: client %d at %d %q; log at %d %q", doc, i, ds[i].Version(), ds[i].Text(), version, text)
				}
			}
		}()
		acked.mu.Lock()
		n := len(acked.ids[doc])
		acked.mu.Unlock()
		if int64(n) != version {
			t.Fatalf("%s: %d distinct ops acknowledged, %d in the log: an acknowledged op was lost or one was applied twice", doc, n, version)
		}
		t.Logf("%s: %d ops, %d characters, all clients agree", doc, version, utf8.RuneCountInString(text))
	}
}

// logText replays doc's events from the shared log.
func logText(t *testing.T, store interface {
	Events(ctx context.Context, doc string, from int64, limit int) ([]eventlog.Event, error)
}, doc string) (string, int64) {
	t.Helper()
	evs, err := store.Events(context.Background(), doc, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	text := ""
	for _, ev := range evs {
		var op document.Op
		if err := op.UnmarshalJSON(ev.Op); err != nil {
			t.Fatal(err)
		}
		if text, err = document.Apply(text, op); err != nil {
			t.Fatalf("%s version %d does not apply: %v", doc, ev.Version, err)
		}
	}
	return text, int64(len(evs))
}

func dialDoc(t *testing.T, url string, fallbacks []string, doc string, follow bool, acked *acks) *client.Doc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Config{
		URL: url, Fallbacks: fallbacks, FollowOwner: follow,
		ReconnectMin: 20 * time.Millisecond, ReconnectMax: 500 * time.Millisecond,
		OnAck: func(doc, id string, _ int64, _ time.Duration) { acked.add(doc, id) },
		OnError: func(doc string, err error) {
			t.Errorf("client error on %s: %v", doc, err)
		},
		OnOrderViolation: func(doc string, v client.OrderViolation) {
			t.Errorf("%s: the server broke the stream's order (protocol §6): %+v", doc, v)
		},
	})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	d, err := c.Open(ctx, doc)
	if err != nil {
		t.Fatalf("open %s: %v", doc, err)
	}
	return d
}

func others(urls []string, i int) []string {
	var out []string
	for j := 1; j < len(urls); j++ {
		out = append(out, urls[(i+j)%len(urls)])
	}
	return out
}

func randomOp(rng *rand.Rand, text string) document.Op {
	n := utf8.RuneCountInString(text)
	if n > 0 && rng.IntN(3) == 0 {
		pos := rng.IntN(n)
		return document.FromPatch(pos, 1+rng.IntN(min(4, n-pos)), "")
	}
	pieces := []string{"a", "b", " ", "😀", "e\u0301", "中"}
	var sb strings.Builder
	for k := 1 + rng.IntN(3); k > 0; k-- {
		sb.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return document.FromPatch(rng.IntN(n+1), 0, sb.String())
}

// TestClusterPresence: a peer on one process appears, moves and leaves on
// another process's client.
func TestClusterPresence(t *testing.T) {
	t.Parallel()
	cl := startCluster(t, 3, "-presence-ttl", "1500ms")
	acked := &acks{ids: make(map[string]map[string]bool)}
	a := dialDoc(t, cl.procs[0].URL(), nil, "pres", false, acked)
	b := dialDoc(t, cl.procs[1].URL(), nil, "pres", false, acked)
	if err := a.Insert(0, "hello"); err != nil {
		t.Fatal(err)
	}
	if err := a.SetPresence("Ann", "#e91e63", &protocol.Selection{Anchor: 1, Head: 3}); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "b to see Ann's selection", func() bool {
		ps := b.Peers()
		return len(ps) == 1 && ps[0].Name == "Ann" && ps[0].Selection != nil && ps[0].Selection.Head == 3
	})
	if err := a.SetPresence("Ann", "#e91e63", &protocol.Selection{Anchor: 4, Head: 4}); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "b to see Ann's caret move", func() bool {
		ps := b.Peers()
		return len(ps) == 1 && ps[0].Selection != nil && ps[0].Selection.Head == 4
	})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "Ann to leave b's roster", func() bool { return len(b.Peers()) == 0 })

	// A peer whose process dies expires and is reported as left.
	c := dialDoc(t, cl.procs[2].URL(), nil, "pres", false, acked)
	if err := c.SetPresence("Cy", "#3f51b5", nil); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "b to see Cy", func() bool { ps := b.Peers(); return len(ps) == 1 && ps[0].Name == "Cy" })
	cl.procs[2].Kill()
	poll.Until(t, "Cy to expire from b's roster after its process died", func() bool { return len(b.Peers()) == 0 })
}
