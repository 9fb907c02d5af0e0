package hub_test

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/gorilla/websocket"

	"github.com/collabedit/collab/auth"
	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/protocol"
)

// BenchmarkEndToEnd measures acknowledged ops per second through real
// sockets, the hub and durable SQLite commits. Each client keeps one op in
// flight, as real editors do, and inserts at position 0 on the version it
// last saw, so the hub transforms whatever it missed.
//
//	go test -run '^$' -bench EndToEnd -benchtime 20000x ./hub/
func BenchmarkEndToEnd(b *testing.B) {
	for _, bc := range []struct{ docs, clientsPerDoc int }{{1, 20}, {1, 100}, {100, 1}, {100, 4}} {
		b.Run(fmt.Sprintf("docs=%d/clients=%d", bc.docs, bc.docs*bc.clientsPerDoc), func(b *testing.B) {
			benchEndToEnd(b, bc.docs, bc.clientsPerDoc, hub.Config{}, nil)
		})
	}
}

// BenchmarkEndToEndAuth is the hot document of BenchmarkEndToEnd with
// access control on: every client authenticated with a signed token.
// Tokens and roles are checked per connection and per open, so ops/s and
// latencies must match the run without it (docs/benchmarks.md).
func BenchmarkEndToEndAuth(b *testing.B) {
	m := &auth.Minter{Secret: testSecret}
	tok, err := m.Mint(auth.Identity{Subject: "bench", Grants: auth.Grants{"*": auth.Write}}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	benchEndToEnd(b, 1, 20, tokens(hub.Config{}), http.Header{"Authorization": {"Bearer " + tok}})
}

func benchEndToEnd(b *testing.B, docs, perDoc int, cfg hub.Config, header http.Header) {
	// Every client is on 127.0.0.1, and all are one user with a token:
	// lift the per-address and per-user limits, as the per-connection
	// rate is lifted.
	cfg.RatePerSecond, cfg.RateBurst = 1e9, 1<<30
	cfg.MaxConnsPerAddr, cfg.UserRate, cfg.UserRateBurst = -1, 1e9, 1<<30
	s := startServer(b, cfg)
	n := docs * perDoc
	clients := make([]*benchClient, n)
	for i := range clients {
		clients[i] = newBenchClient(b, s.URL, "d"+strconv.Itoa(i%docs), "c"+strconv.Itoa(i), header)
	}
	hist := hdrhistogram.New(1, int64(10*time.Second/time.Microsecond), 3)
	var mu sync.Mutex
	b.ReportAllocs()
	b.ResetTimer()
	before := s.Store.Stats()
	start := time.Now()
	var wg sync.WaitGroup
	for i, c := range clients {
		ops := b.N / n
		if i < b.N%n {
			ops++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := c.run(b, ops)
			mu.Lock()
			hist.Merge(lat)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	// events/commit tells store-bound from CPU-bound runs: with C clients
	// each holding one op, a writer that is the bottleneck batches close to
	// C (30-43 of 100 at docs=100/clients=100 on the 2-core VM), while 8-13 of
	// 400 at docs=100/clients=400 means the ops wait on sockets and CPU,
	// not on the fsync.
	after := s.Store.Stats()
	b.ReportMetric(float64(after.Events-before.Events)/float64(max(after.Commits-before.Commits, 1)), "events/commit")
	b.ReportMetric(float64(hist.ValueAtQuantile(50))/1000, "p50-ms")
	b.ReportMetric(float64(hist.ValueAtQuantile(99))/1000, "p99-ms")
}

type benchClient struct {
	ws      *websocket.Conn
	doc, id string
	version int64
}

func newBenchClient(b *testing.B, url, doc, id string, header http.Header) *benchClient {
	b.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, header)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ws.Close() })
	c := &benchClient{ws: ws, doc: doc, id: id}
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"open","doc":"`+doc+`"}`)); err != nil {
		b.Fatal(err)
	}
	m := c.next(b)
	for m.Type == protocol.TypeAuthenticated || m.Type == protocol.TypeAccess {
		m = c.next(b)
	}
	c.version = m.Version
	return c
}

func (c *benchClient) next(b *testing.B) protocol.Message {
	_, data, err := c.ws.ReadMessage()
	if err != nil {
		b.Error(err)
		return protocol.Message{Type: "error"}
	}
	m, err := protocol.DecodeMessage(data)
	if err != nil {
		b.Error(err)
	}
	return m
}

// run sends ops one at a time and returns the ack latencies in µs.
func (c *benchClient) run(b *testing.B, ops int) *hdrhistogram.Histogram {
	h := hdrhistogram.New(1, int64(10*time.Second/time.Microsecond), 3)
	buf := make([]byte, 0, 128)
	for i := 0; i < ops; i++ {
		buf = append(buf[:0], `{"type":"op","doc":"`...)
		buf = append(buf, c.doc...)
		buf = append(buf, `","version":`...)
		buf = strconv.AppendInt(buf, c.version, 10)
		buf = append(buf, `,"id":"`...)
		buf = append(buf, c.id...)
		buf = append(buf, ':')
		buf = strconv.AppendInt(buf, int64(i), 10)
		buf = append(buf, `","op":["x"]}`...)
		sent := time.Now()
		if err := c.ws.WriteMessage(websocket.TextMessage, buf); err != nil {
			b.Error(err)
			return h
		}
		for {
			m := c.next(b)
			if m.Type == "op" {
				c.version = m.Version + 1
				continue
			}
			if m.Type != "ack" {
				b.Errorf("got %+v", m)
				return h
			}
			c.version = m.Version + 1
			_ = h.RecordValue(time.Since(sent).Microseconds())
			break
		}
	}
	return h
}
