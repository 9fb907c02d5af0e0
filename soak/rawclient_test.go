package soak

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// rawConfig configures a raw client.
type rawConfig struct {
	name, doc string
	// endpoints are the processes' URLs, its own first. After a lost
	// connection it tries them in turn, starting with its own.
	endpoints []string
	routed    bool   // open with "route": true and follow "moved" (§15)
	marker    string // what each of its ops inserts at position 0
	// writeMin..writeMax is the time between its ops; zero: it writes
	// only as a probe.
	writeMin, writeMax time.Duration
	// probe: write one op as soon as the document is open, and stop once
	// it is acknowledged.
	probe bool
	// retry is the delay before resending after unavailable; readers
	// jitter it up to twice that.
	retry time.Duration
}

// rawClient is a client written against the wire protocol alone, with
// gorilla/websocket: one document on one connection at a time, every frame
// checked by a rawDoc. Readers write now and then (an insert at position
// 0, one in flight) so that acks are checked as well as ops. A lost
// connection is reconnected, reopening from its version, and must be
// explained by a kill. Its goroutine stops when the context given to
// startRaw ends; wait waits for it.
type rawClient struct {
	cfg     rawConfig
	env     *env
	rng     *rand.Rand // the run goroutine's
	watch   *connWatch
	cmds    chan rawCmd
	writing atomic.Bool
	done    chan struct{}

	mu      sync.Mutex
	doc     *rawDoc
	ackedAt time.Time // a probe's first ack
}

// rawCmd asks the client to open or close its document (bursts).
type rawCmd struct {
	open bool
	done chan struct{} // closed once the close frame or the open is sent
}

// sessionEnd is why a connection ended.
type sessionEnd struct {
	moveTo  string // followed "moved"
	stopped bool   // the context ended, or the probe is done
	err     error  // the connection was lost
}

// rawState is what the run goroutine keeps across sessions.
type rawState struct {
	// wantOpen: the document is to be open on every new connection. It
	// stays set while a close waits, so that a connection lost meanwhile
	// is reopened and the op in flight can still be settled.
	wantOpen bool
	closing  *rawCmd // a close waiting for the op in flight to settle
}

func startRaw(ctx context.Context, e *env, cfg rawConfig, rng *rand.Rand) *rawClient {
	c := &rawClient{cfg: cfg, env: e, rng: rng, watch: newConnWatch(cfg.name, cfg.doc, e.kills, e.found),
		cmds: make(chan rawCmd), done: make(chan struct{}), doc: newRawDoc(cfg.name, cfg.doc)}
	c.writing.Store(cfg.writeMax > 0)
	go c.run(ctx)
	return c
}

// wait waits for the client's goroutine, after its context ended.
func (c *rawClient) wait() { <-c.done }

// state returns the document's version, text and op in flight.
func (c *rawClient) state() (version int64, text, pending string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.doc.version, c.doc.text, c.doc.pending()
}

// command sends cmd to the run goroutine and waits until it is carried
// out, or ctx ends.
func (c *rawClient) command(ctx context.Context, open bool) bool {
	cmd := rawCmd{open: open, done: make(chan struct{})}
	select {
	case c.cmds <- cmd:
	case <-ctx.Done():
		return false
	}
	select {
	case <-cmd.done:
		return true
	case <-ctx.Done():
		return false
	}
}

func (c *rawClient) run(ctx context.Context) {
	defer close(c.done)
	st := &rawState{wantOpen: true}
	next, url := 0, c.cfg.endpoints[0]
	delay := 50 * time.Millisecond
	for ctx.Err() == nil {
		ws, err := dialWS(ctx, url)
		if err != nil {
			// Its process may be down: try the next one after a while.
			next = (next + 1) % len(c.cfg.endpoints)
			url = c.cfg.endpoints[next]
			sleepCtx(ctx, delay)
			delay = min(2*delay, time.Second)
			continue
		}
		delay = 50 * time.Millisecond
		c.watch.connected(url)
		end := c.session(ctx, ws, st)
		c.watch.disconnected(url, end.err, end.err == nil)
		switch {
		case end.stopped:
			return
		case end.moveTo != "":
			url = end.moveTo
		default:
			next, url = 0, c.cfg.endpoints[0]
		}
	}
}

// dialWS opens a socket; 5 s is plenty on loopback, even to a process
// that is replaying its log.
func dialWS(ctx context.Context, url string) (*websocket.Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	ws, resp, err := d.DialContext(ctx, url, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	return ws, err
}

// session runs one connection until it ends.
func (c *rawClient) session(ctx context.Context, ws *websocket.Conn, st *rawState) sessionEnd {
	s := newRawSession(c, ws)
	defer s.stop()
	if st.wantOpen {
		s.open()
	}
	for {
		select {
		case data := <-s.frames:
			if end, over := s.frame(data); over {
				return end
			}
		case err := <-s.lost:
			return sessionEnd{err: err}
		case <-s.opTimer.C:
			s.write()
		case <-s.retryTimer.C:
			s.retryNow()
		case cmd := <-c.cmds:
			s.command(cmd, st)
		case <-ctx.Done():
			s.goodbye()
			return sessionEnd{stopped: true}
		}
		if err := s.settleClose(st); err != nil {
			return sessionEnd{err: err}
		}
		if s.err != nil {
			return sessionEnd{err: s.err}
		}
	}
}
