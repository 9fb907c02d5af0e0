package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/gorilla/websocket"

	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/pgtest"
	"github.com/collabedit/collab/protocol"
	"github.com/collabedit/collab/redistest"
	"github.com/collabedit/collab/servertest"
)

// Scale-out benchmarks: real server processes (the binary of this
// command) sharing one SQLite log and, optionally, one redis-server — or,
// as "hosts", each with its own data directory, sharing a durable
// PostgreSQL and a Redis Cluster — with raw WebSocket clients in the
// benchmark process. They only run with -bench:
//
//	go test -run '^$' -bench 'ClusterHotDoc|ClusterManyDocs|ClusterHundredDocs' -benchtime 20000x ./cmd/server/
//	go test -run '^$' -bench ClusterDelivery -benchtime 3000x ./cmd/server/
//
// Every process runs with -rate 1e9 so the per-connection rate limit is
// not what is measured, and -log-level warn.

// benchCluster is P server processes on one data directory, with or
// without Redis. It is started once per sub-benchmark and reused by the
// testing package's probe run (b.N = 1) and the real run; each run uses
// fresh document names.
type benchCluster struct {
	dir    string
	redis  *redistest.Server
	shards *redistest.Cluster
	pg     *pgtest.Server
	procs  []*servertest.Server
	runs   int
	routed bool // clients ask to be routed to the owner (protocol §15)
}

// startBenchCluster starts p processes; cleanup goes to tb, which should
// outlive every run of the sub-benchmark using the cluster.
func startBenchCluster(tb testing.TB, cc clusterCase) *benchCluster {
	tb.Helper()
	cl := &benchCluster{dir: tb.TempDir(), routed: cc.routed}
	args := []string{"-log-level", "warn", "-rate", "1e9", "-rate-burst", "1000000000"}
	switch {
	case cc.withRedis && cc.shards:
		cl.shards = redistest.StartCluster(tb, 3, 1)
		args = append(args, "-redis-url", cl.shards.URL(), "-advertise-url", "auto")
	case cc.withRedis:
		cl.redis = redistest.Start(tb)
		args = append(args, "-redis-url", cl.redis.URL(), "-advertise-url", "auto")
	}
	if !cc.hosts {
		cl.procs = servertest.StartCluster(tb, cc.procs, cl.dir, args...)
		return cl
	}
	cl.pg = pgtest.StartWith(tb, pgtest.Config{Durable: true})
	args = append(args, "-store", cl.pg.DB(tb))
	for i := range cc.procs {
		id := fmt.Sprintf("p%d", i)
		own := append([]string{"-process-id", id}, args...)
		if i > 0 {
			// One host keeps the read models; the others serve sockets
			// only, rather than each projecting every event again.
			own = append(own, "-read-models=false")
		}
		cl.procs = append(cl.procs, servertest.Start(tb, servertest.Options{Name: id, Args: own}))
	}
	return cl
}

func (cl *benchCluster) url(i int) string { return cl.procs[i%len(cl.procs)].URL() }

// stop stops every process of the cluster, so that the next case is
// measured without it: an idle PostgreSQL, Redis Cluster or server still
// takes CPU (checkpoints, gossip, projector polls), which halved later
// cases' figures when all were left running until the benchmark ended.
func (cl *benchCluster) stop() {
	for _, p := range cl.procs {
		_ = p.Stop()
	}
	if cl.pg != nil {
		cl.pg.Stop()
	}
	if cl.redis != nil {
		cl.redis.Kill()
	}
	if cl.shards != nil {
		for _, n := range cl.shards.Nodes() {
			n.Kill()
		}
	}
}

// lazyCluster returns a function that starts the cluster on first use and
// reuses it afterwards, and one that stops it once the sub-benchmark is
// done; parent cleans up what is left.
func lazyCluster(parent testing.TB, cc clusterCase) (start func() *benchCluster, stop func()) {
	var cl *benchCluster
	start = func() *benchCluster {
		if cl == nil {
			cl = startBenchCluster(parent, cc)
		}
		cl.runs++
		return cl
	}
	stop = func() {
		if cl != nil {
			cl.stop()
		}
	}
	return start, stop
}

// reportCluster checks that exactly ops events were committed between the
// two scrapes and reports the commit batching and bus activity.
func reportCluster(b *testing.B, before, after map[string]float64, ops int) {
	d := func(k string) float64 { return after[k] - before[k] }
	if got := d("collab_eventlog_events_total"); int(got) != ops && !b.Failed() {
		b.Fatalf("%d ops acknowledged but %v events committed", ops, got)
	}
	b.ReportMetric(d("collab_eventlog_events_total")/max(d("collab_eventlog_commits_total"), 1), "events/commit")
	b.ReportMetric(d("collab_ops_forwarded_total")/float64(ops), "forwarded/op")
	b.ReportMetric(d("collab_gaps_filled_total"), "gaps-filled")
}

// wsClient is a raw WebSocket editor: one op in flight, inserting "x" at
// position 0 on the version it last saw. Frames from the server are
// recognised by their fixed prefix (protocol.AppendOp / AppendAck) rather
// than decoded with encoding/json, so that the clients, which share the
// CPU with the servers, cost as little as possible.
type wsClient struct {
	ws      *websocket.Conn
	doc, id string
	version int64
}

// dialEditor opens doc on url; with route it asks to be routed to the
// document's owner and follows a "moved" answer there.
func dialEditor(tb testing.TB, url, doc, id string, route bool) *wsClient {
	tb.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ws.Close() })
	c := &wsClient{ws: ws, doc: doc, id: id}
	open := `{"type":"open","doc":"` + doc + `"}`
	if route {
		open = `{"type":"open","route":true,"doc":"` + doc + `"}`
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte(open)); err != nil {
		tb.Fatal(err)
	}
	for {
		_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, data, err := ws.ReadMessage()
		if err != nil {
			tb.Fatalf("open %s: %v", doc, err)
		}
		m, err := protocol.DecodeMessage(data)
		if err != nil {
			tb.Fatal(err)
		}
		if m.Type == "snapshot" {
			c.version = m.Version
			_ = ws.SetReadDeadline(time.Time{})
			return c
		}
		if m.Type == "moved" {
			ws.Close()
			return dialEditor(tb, m.URL, doc, id, false)
		}
		if m.Type == "error" {
			tb.Fatalf("open %s: %s %s", doc, m.Code, m.Message)
		}
	}
}

// frame is the part of a server frame the benchmarks look at.
type frame struct {
	kind    byte // 'o' op, 'a' ack, 0 anything else
	version int64
	id      []byte
}

var (
	opPrefix  = []byte(`{"type":"op",`)
	ackPrefix = []byte(`{"type":"ack",`)
	verKey    = []byte(`"version":`)
	idKey     = []byte(`"id":"`)
)

// parseFrame reads type, version and id from an op or ack frame; ids in
// these benchmarks need no JSON escaping.
func parseFrame(data []byte) (frame, error) {
	var f frame
	switch {
	case bytes.HasPrefix(data, opPrefix):
		f.kind = 'o'
	case bytes.HasPrefix(data, ackPrefix):
		f.kind = 'a'
	default:
		if bytes.HasPrefix(data, []byte(`{"type":"error"`)) {
			return f, fmt.Errorf("server error: %s", data)
		}
		return f, nil
	}
	i := bytes.Index(data, verKey)
	if i < 0 {
		return f, fmt.Errorf("no version in %s", data)
	}
	rest := data[i+len(verKey):]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	v, err := strconv.ParseInt(string(rest[:j]), 10, 64)
	if err != nil {
		return f, err
	}
	f.version = v
	if i = bytes.Index(rest, idKey); i >= 0 {
		id := rest[i+len(idKey):]
		if k := bytes.IndexByte(id, '"'); k >= 0 {
			f.id = id[:k]
		}
	}
	return f, nil
}

func appendOpFrame(buf []byte, doc string, version int64, id string, seq int) []byte {
	buf = append(buf, `{"type":"op","doc":"`...)
	buf = append(buf, doc...)
	buf = append(buf, `","version":`...)
	buf = strconv.AppendInt(buf, version, 10)
	buf = append(buf, `,"id":"`...)
	buf = append(buf, id...)
	buf = append(buf, ':')
	buf = strconv.AppendInt(buf, int64(seq), 10)
	buf = append(buf, `","op":["x"]}`...)
	return buf
}

// run sends ops one at a time and records each ack's latency in µs.
func (c *wsClient) run(ops int, h *hdrhistogram.Histogram) error {
	buf := make([]byte, 0, 128)
	for i := 0; i < ops; i++ {
		buf = appendOpFrame(buf[:0], c.doc, c.version, c.id, i)
		sent := time.Now()
		if err := c.ws.WriteMessage(websocket.TextMessage, buf); err != nil {
			return err
		}
		for {
			_ = c.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
			_, data, err := c.ws.ReadMessage()
			if err != nil {
				return fmt.Errorf("%s waiting for ack of op %d: %w", c.id, i, err)
			}
			f, err := parseFrame(data)
			if err != nil {
				return err
			}
			if f.kind == 0 {
				continue
			}
			c.version = f.version + 1
			if f.kind == 'a' {
				_ = h.RecordValue(time.Since(sent).Microseconds())
				break
			}
		}
	}
	return nil
}

// reader is a client that only watches a document: it reads and discards
// every frame until its socket is closed.
func dialReader(tb testing.TB, url, doc string, route bool) {
	c := dialEditor(tb, url, doc, "", route)
	go func() {
		for {
			if _, _, err := c.ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
}

func newHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, int64(60*time.Second/time.Microsecond), 3)
}

type clusterCase struct {
	name      string
	procs     int
	withRedis bool
	routed    bool
	// hosts: every process has its own data directory and the log is a
	// durable PostgreSQL (fsync on); the first keeps the read models, the
	// others run with -read-models=false. With shards, Redis is a cluster
	// of 3 masters with a replica each.
	hosts, shards bool
}

var clusterCases = []clusterCase{
	{name: "procs=1/no-redis", procs: 1},
	{name: "procs=1/redis", procs: 1, withRedis: true},
	{name: "procs=3/redis", procs: 3, withRedis: true},
	{name: "procs=3/redis/routed", procs: 3, withRedis: true, routed: true},
	{name: "hosts=1/postgres", procs: 1, hosts: true},
	{name: "hosts=3/postgres/redis/routed", procs: 3, withRedis: true, hosts: true, routed: true},
	{name: "hosts=3/postgres/redis-cluster", procs: 3, withRedis: true, hosts: true, shards: true},
	{name: "hosts=3/postgres/redis-cluster/routed", procs: 3, withRedis: true, hosts: true, shards: true, routed: true},
}

// BenchmarkClusterHotDoc: one document, 30 editors spread round-robin over
// the processes, each keeping one op in flight. With 3 processes two
// thirds of the ops are forwarded to the owner over Redis and every event
// is delivered to the two followers over pub/sub.
func BenchmarkClusterHotDoc(b *testing.B) { benchEveryCase(b, 1, 30, 0) }

// BenchmarkClusterHundredDocs: 100 documents, 2 editors each on
// different processes when there are several, no readers.
func BenchmarkClusterHundredDocs(b *testing.B) { benchEveryCase(b, 100, 2, 0) }

// BenchmarkClusterManyDocs: 30 documents, 3 editors each (one on each
// process when there are 3) and 2 readers each, also spread.
func BenchmarkClusterManyDocs(b *testing.B) { benchEveryCase(b, 30, 3, 2) }

// benchEveryCase runs runEditors(docs, perDoc, readers) on every cluster
// case, each case's processes stopped before the next starts.
func benchEveryCase(b *testing.B, docs, perDoc, readers int) {
	for _, cc := range clusterCases {
		start, stop := lazyCluster(b, cc)
		b.Run(cc.name, func(b *testing.B) {
			runEditors(b, start(), docs, perDoc, readers)
		})
		stop()
	}
}

// runEditors opens docs documents with perDoc editors and readers readers
// each, clients placed round-robin over the processes (client k of a
// document on process (doc+k) mod P, so every document has editors on
// every process and the first opener, its owner, varies), and has the
// editors share b.N ops.
func runEditors(b *testing.B, cl *benchCluster, docs, perDoc, readers int) {
	prefix := fmt.Sprintf("r%d-d", cl.runs)
	var editors []*wsClient
	for k := 0; k < perDoc; k++ {
		for d := 0; d < docs; d++ {
			doc := prefix + strconv.Itoa(d)
			editors = append(editors, dialEditor(b, cl.url(d+k), doc, fmt.Sprintf("c%d-%d", d, k), cl.routed))
		}
	}
	for k := 0; k < readers; k++ {
		for d := 0; d < docs; d++ {
			dialReader(b, cl.url(d+perDoc+k), prefix+strconv.Itoa(d), cl.routed)
		}
	}
	n := len(editors)
	hist := newHist()
	var mu sync.Mutex
	before := servertest.SumMetrics(b, cl.procs...)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i, c := range editors {
		ops := b.N / n
		if i < b.N%n {
			ops++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := newHist()
			if err := c.run(ops, h); err != nil {
				b.Error(err)
			}
			mu.Lock()
			hist.Merge(h)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	// The last commits' counters may lag their acks a little.
	var after map[string]float64
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	poll.Wait(ctx, func() bool {
		after = servertest.SumMetrics(b, cl.procs...)
		return int(after["collab_eventlog_events_total"]-before["collab_eventlog_events_total"]) >= b.N
	})
	cancel()
	reportCluster(b, before, after, b.N)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	b.ReportMetric(float64(hist.ValueAtQuantile(50))/1000, "p50-ms")
	b.ReportMetric(float64(hist.ValueAtQuantile(99))/1000, "p99-ms")
}

// BenchmarkClusterDelivery: a writer sends ops to one document at a fixed
// rate (1000 ops/s, paced by a schedule, not waiting for acks) and a
// reader measures send-to-broadcast time for each op, matched by op id
// (same clock: one benchmark process). Two processes; the document's owner
// is p0 (its first opener). b.N is the number of ops, so -benchtime 3000x
// takes about 3 s per case.
//
//	writer on owner,    reader on follower:  owner → Redis → follower
//	writer on owner,    reader on owner:     the single-process path (with Redis running)
//	writer on follower, reader on follower:  forward → owner → commit → Redis → follower
//	writer on follower, reader on owner
func BenchmarkClusterDelivery(b *testing.B) {
	start, stop := lazyCluster(b, clusterCase{procs: 2, withRedis: true})
	defer stop()
	for _, bc := range []struct {
		name           string
		writer, reader int // process index; p0 owns the document
	}{
		{"writer=owner/reader=other-process", 0, 1},
		{"writer=owner/reader=same-process", 0, 0},
		{"writer=follower/reader=same-process", 1, 1},
		{"writer=follower/reader=owner", 1, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cl := start()
			runDelivery(b, cl, 1000, bc.writer, bc.reader)
		})
	}
}

func runDelivery(b *testing.B, cl *benchCluster, rate float64, writerProc, readerProc int) {
	doc := fmt.Sprintf("deliv%d", cl.runs)
	// The first opener takes the lease: make p0 the owner.
	dialReader(b, cl.url(0), doc, false)
	w := dialEditor(b, cl.url(writerProc), doc, "w", false)
	r := dialEditor(b, cl.url(readerProc), doc, "r", false)
	sent := make([]atomic.Int64, b.N) // UnixNano of each op's send
	hist := newHist()
	var maxLat time.Duration
	readDone := make(chan error, 1)
	go func() {
		got := 0
		for got < b.N {
			_ = r.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
			_, data, err := r.ws.ReadMessage()
			if err != nil {
				readDone <- fmt.Errorf("reader after %d ops: %w", got, err)
				return
			}
			now := time.Now().UnixNano()
			f, err := parseFrame(data)
			if err != nil {
				readDone <- err
				return
			}
			if f.kind != 'o' || !bytes.HasPrefix(f.id, []byte("w:")) {
				continue
			}
			seq, err := strconv.Atoi(string(f.id[2:]))
			if err != nil || seq >= b.N {
				readDone <- fmt.Errorf("unexpected op id %q", f.id)
				return
			}
			lat := time.Duration(now - sent[seq].Load())
			maxLat = max(maxLat, lat)
			_ = hist.RecordValue(lat.Microseconds())
			got++
		}
		readDone <- nil
	}()
	// The writer's acks are read (and dropped) so its socket never backs up.
	acked := make(chan error, 1)
	var ackedVersion atomic.Int64
	ackedVersion.Store(w.version)
	go func() {
		for n := 0; n < b.N; {
			_ = w.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
			_, data, err := w.ws.ReadMessage()
			if err != nil {
				acked <- err
				return
			}
			f, err := parseFrame(data)
			if err != nil {
				acked <- err
				return
			}
			if f.kind == 'a' {
				ackedVersion.Store(f.version + 1)
				n++
			}
		}
		acked <- nil
	}()
	interval := time.Duration(float64(time.Second) / rate)
	b.ReportAllocs()
	b.ResetTimer()
	t0 := time.Now()
	buf := make([]byte, 0, 128)
	for i := 0; i < b.N; i++ {
		if d := time.Until(t0.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d) // the writer's fixed rate, not a wait
		}
		// Version: the last one acknowledged; the server transforms the op
		// over whatever of ours is still in flight.
		buf = appendOpFrame(buf[:0], doc, ackedVersion.Load(), "w", i)
		sent[i].Store(time.Now().UnixNano())
		if err := w.ws.WriteMessage(websocket.TextMessage, buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-readDone; err != nil {
		b.Fatal(err)
	}
	if err := <-acked; err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(t0)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	b.ReportMetric(float64(hist.ValueAtQuantile(50))/1000, "p50-ms")
	b.ReportMetric(float64(hist.ValueAtQuantile(99))/1000, "p99-ms")
	b.ReportMetric(float64(maxLat.Microseconds())/1000, "max-ms")
}
