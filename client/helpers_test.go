package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/hub/hubtest"
	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/protocol"
)

type testServer = hubtest.Server

// startServer runs a real hub on a real SQLite store in t.TempDir().
func startServer(t *testing.T, cfg hub.Config) *testServer {
	t.Helper()
	return hubtest.Start(t, cfg)
}

// recorder counts what the hooks report.
type recorder struct {
	mu      sync.Mutex
	acks    map[string]int // op id → times acked
	remotes int
	resyncs int // OnRemote with an empty id
	errs    []error
	order   []OrderViolation
	conns   []string // "connect <url>" and "disconnect <url>: <err>", in order
	drops   []error  // OnDisconnect's errors
	lives   []string // OnLifecycle: "<version> <kind> <title>", in order
}

func newRecorder() *recorder { return &recorder{acks: make(map[string]int)} }

func (r *recorder) hook(cfg *Config) {
	cfg.OnAck = func(doc, id string, version int64, latency time.Duration) {
		r.mu.Lock()
		r.acks[id]++
		r.mu.Unlock()
	}
	cfg.OnRemote = func(doc string, version int64, id string, op document.Op) {
		r.mu.Lock()
		r.remotes++
		if id == "" {
			r.resyncs++
		}
		r.mu.Unlock()
	}
	cfg.OnError = func(doc string, err error) {
		r.mu.Lock()
		r.errs = append(r.errs, err)
		r.mu.Unlock()
	}
	cfg.OnLifecycle = func(doc string, version int64, lc protocol.Lifecycle) {
		r.mu.Lock()
		r.lives = append(r.lives, fmt.Sprintf("%d %s %s", version, lc.Kind, lc.Title))
		r.mu.Unlock()
	}
	cfg.OnOrderViolation = func(doc string, v OrderViolation) {
		r.mu.Lock()
		r.order = append(r.order, v)
		r.mu.Unlock()
	}
	cfg.OnConnect = func(url string) {
		r.mu.Lock()
		r.conns = append(r.conns, "connect "+url)
		r.mu.Unlock()
	}
	cfg.OnDisconnect = func(url string, err error) {
		r.mu.Lock()
		r.conns = append(r.conns, "disconnect "+url)
		r.drops = append(r.drops, err)
		r.mu.Unlock()
	}
}

// violations returns what OnOrderViolation reported, in order.
func (r *recorder) violations() []OrderViolation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]OrderViolation(nil), r.order...)
}

// connections returns the OnConnect and OnDisconnect calls, in order, and
// the errors OnDisconnect got.
func (r *recorder) connections() ([]string, []error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.conns...), append([]error(nil), r.drops...)
}

// remoteCount returns how many remote ops were reported.
func (r *recorder) remoteCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.remotes
}

// ackCount returns the number of distinct ops acked, failing on an op acked
// twice.
func (r *recorder) ackCount(t *testing.T) int {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, n := range r.acks {
		if n != 1 {
			t.Errorf("op %s acked %d times", id, n)
		}
	}
	return len(r.acks)
}

func (r *recorder) errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

// faults lets a test cut the network under a client: refuse new
// connections, or silently swallow what one side sends.
type faults struct {
	down       atomic.Bool  // dials fail
	dropReads  atomic.Bool  // the client reads nothing more
	dropWrites atomic.Bool  // nothing the client writes arrives
	dropped    atomic.Int64 // writes swallowed so far
}

func (f *faults) dialer() *websocket.Dialer {
	return &websocket.Dialer{
		HandshakeTimeout: 5 * time.Second,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if f.down.Load() {
				return nil, errors.New("network down (test)")
			}
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &faultConn{Conn: c, f: f}, nil
		},
	}
}

type faultConn struct {
	net.Conn
	f *faults
}

func (c *faultConn) Read(p []byte) (int, error) {
	for {
		n, err := c.Conn.Read(p)
		if err != nil || !c.f.dropReads.Load() {
			return n, err
		}
	}
}

func (c *faultConn) Write(p []byte) (int, error) {
	if c.f.dropWrites.Load() {
		c.f.dropped.Add(1)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// dial connects a client with fast reconnects; opts adjust the config.
func dial(t *testing.T, ts *testServer, rec *recorder, opts ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{URL: ts.URL, ReconnectMin: 10 * time.Millisecond, ReconnectMax: 200 * time.Millisecond}
	if testing.Verbose() {
		cfg.Logger = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	}
	if rec != nil {
		rec.hook(&cfg)
	}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func open(t *testing.T, c *Client, doc string) *Doc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d, err := c.Open(ctx, doc)
	if err != nil {
		t.Fatalf("open %s: %v", doc, err)
	}
	return d
}

// converge waits until every doc is synced and all show the same text and
// version, and returns that text.
func converge(t *testing.T, docs ...*Doc) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), poll.Timeout)
	defer cancel()
	same := func() bool {
		for _, d := range docs {
			if err := d.WaitSynced(ctx); err != nil {
				t.Fatalf("%v", err)
			}
		}
		for _, d := range docs[1:] {
			if d.Text() != docs[0].Text() || d.Version() != docs[0].Version() {
				return false
			}
		}
		return true
	}
	if !poll.Wait(ctx, same) {
		for i, d := range docs {
			t.Logf("doc %d at %d: %q", i, d.Version(), d.Text())
		}
		t.Fatalf("documents did not converge")
	}
	return docs[0].Text()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
