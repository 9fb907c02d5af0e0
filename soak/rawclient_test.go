package soak

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabedit/collab/protocol"
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

// rawSession is one connection of a raw client: a reader goroutine that
// hands frames over, and timers for the next op and for retries. Only the
// client's run goroutine writes.
type rawSession struct {
	c          *rawClient
	ws         *websocket.Conn
	frames     chan []byte
	lost       chan error
	quit       chan struct{}
	wg         sync.WaitGroup
	opTimer    *time.Timer
	retryTimer *time.Timer
	retryOpen  bool  // the pending retry is an open, not an op
	err        error // a write failed
}

func newRawSession(c *rawClient, ws *websocket.Conn) *rawSession {
	s := &rawSession{c: c, ws: ws, frames: make(chan []byte), lost: make(chan error, 1), quit: make(chan struct{}),
		opTimer: time.NewTimer(time.Hour), retryTimer: time.NewTimer(time.Hour)}
	s.opTimer.Stop()
	s.retryTimer.Stop()
	// Pings are answered inside ReadMessage and do not return from it, so
	// they must push the read deadline themselves: a reader of a quiet
	// document receives nothing else.
	timeout := c.env.set.readTimeout()
	ws.SetPingHandler(func(data string) error {
		_ = ws.SetReadDeadline(time.Now().Add(timeout))
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		var ne net.Error
		if errors.Is(err, websocket.ErrCloseSent) || errors.As(err, &ne) && ne.Timeout() {
			return nil // as gorilla's default handler: the read side reports a dead socket
		}
		return err
	})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.readLoop()
	}()
	return s
}

// readLoop reads until the socket fails. A socket silent for 3 pong
// waits, pings included, is dead: the server pings every ping interval.
func (s *rawSession) readLoop() {
	for {
		_ = s.ws.SetReadDeadline(time.Now().Add(s.c.env.set.readTimeout()))
		_, data, err := s.ws.ReadMessage()
		if err != nil {
			s.lost <- err
			return
		}
		select {
		case s.frames <- data:
		case <-s.quit:
			return
		}
	}
}

// stop closes the socket and waits for the reader.
func (s *rawSession) stop() {
	close(s.quit)
	_ = s.ws.Close()
	s.wg.Wait()
	s.opTimer.Stop()
	s.retryTimer.Stop()
	s.c.mu.Lock()
	s.c.doc.disconnected()
	s.c.mu.Unlock()
}

// goodbye closes the connection deliberately, with a close frame.
func (s *rawSession) goodbye() {
	_ = s.ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
}

func (s *rawSession) send(frame []byte) {
	if frame == nil || s.err != nil {
		return
	}
	_ = s.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	s.err = s.ws.WriteMessage(websocket.TextMessage, frame)
}

// open sends the open, with routing while it has not been moved 3 times
// in a row (§15's bound).
func (s *rawSession) open() {
	s.c.mu.Lock()
	frame := s.c.doc.open(s.c.cfg.routed && s.c.doc.moves < 3)
	s.c.mu.Unlock()
	s.send(frame)
}

// frame handles one server frame; over reports the session's end.
func (s *rawSession) frame(data []byte) (sessionEnd, bool) {
	c := s.c
	m, err := protocol.DecodeMessage(data)
	if err != nil {
		c.env.found.add(checkError, c.cfg.name, c.cfg.doc, "undecodable frame %q: %v", data, err)
		return sessionEnd{}, false
	}
	if m.Doc != c.cfg.doc && m.Type != protocol.TypeError {
		c.env.found.add(checkOrder, c.cfg.name, c.cfg.doc, "frame for another document: %s", data)
		return sessionEnd{}, false
	}
	c.mu.Lock()
	was := c.doc.phase
	out := c.doc.handle(m)
	ready := was != rawReady && c.doc.phase == rawReady
	c.mu.Unlock()
	c.record(out)
	for _, f := range out.send {
		s.send(f)
	}
	switch {
	case out.moveTo != "":
		s.goodbye()
		return sessionEnd{moveTo: out.moveTo}, true
	case out.retryOp || out.retryOpen:
		s.retryOpen = out.retryOpen
		s.retryTimer.Reset(s.retryDelay())
	}
	if c.cfg.probe && c.probeDone() {
		s.goodbye()
		return sessionEnd{stopped: true}, true
	}
	if ready {
		s.armWrite(c.cfg.probe)
	}
	return sessionEnd{}, false
}

// record files what a frame showed.
func (c *rawClient) record(out outcome) {
	for _, p := range out.problems {
		c.env.found.add(p.check, c.cfg.name, c.cfg.doc, "%s", p.detail)
	}
	for _, a := range out.acked {
		c.env.ledger.ack(c.env.found, c.cfg.name, c.cfg.doc, a.id, a.version)
		c.mu.Lock()
		if c.ackedAt.IsZero() {
			c.ackedAt = time.Now()
		}
		c.mu.Unlock()
	}
	if out.unavailable != "" {
		c.env.found.note("unavailable: " + out.unavailable)
	}
}

// probeDone reports whether a probe's op was acknowledged.
func (c *rawClient) probeDone() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.ackedAt.IsZero()
}

// armWrite schedules the next op: at once for a probe, else after a
// random time between writeMin and writeMax.
func (s *rawSession) armWrite(now bool) {
	cfg := s.c.cfg
	switch {
	case now:
		s.opTimer.Reset(0)
	case cfg.writeMax > 0:
		s.opTimer.Reset(cfg.writeMin + time.Duration(s.c.rng.Int64N(int64(cfg.writeMax-cfg.writeMin)+1)))
	}
}

// write sends a new op if the client is writing and has none in flight.
func (s *rawSession) write() {
	c := s.c
	if c.writing.Load() || c.cfg.probe {
		c.mu.Lock()
		frame := c.doc.newOp(c.cfg.marker)
		c.mu.Unlock()
		s.send(frame)
	}
	s.armWrite(false)
}

func (s *rawSession) retryDelay() time.Duration {
	if s.c.cfg.probe {
		return s.c.cfg.retry
	}
	return s.c.cfg.retry + time.Duration(s.c.rng.Int64N(int64(s.c.cfg.retry)+1))
}

// retryNow resends what got unavailable: the open, or the op in flight.
func (s *rawSession) retryNow() {
	if s.retryOpen {
		s.retryOpen = false
		s.open()
		return
	}
	s.c.mu.Lock()
	frame := s.c.doc.resend()
	s.c.mu.Unlock()
	s.send(frame)
}

// command carries out an open or close request. A close waits for the op
// in flight to be acknowledged (settleClose), so nothing is left hanging
// while the document is closed.
func (s *rawSession) command(cmd rawCmd, st *rawState) {
	if cmd.open {
		if st.closing != nil { // a close that never settled: the document stays open
			close(st.closing.done)
			st.closing = nil
		}
		s.c.mu.Lock()
		closed := s.c.doc.phase == rawClosed
		s.c.mu.Unlock()
		if st.wantOpen = true; closed {
			s.open()
		}
		close(cmd.done)
		return
	}
	st.closing = &cmd
}

// settleClose sends a pending close once nothing is in flight.
func (s *rawSession) settleClose(st *rawState) error {
	if st.closing == nil {
		return nil
	}
	s.c.mu.Lock()
	idle := s.c.doc.pending() == ""
	var frame []byte
	if idle {
		frame = s.c.doc.close()
	}
	s.c.mu.Unlock()
	if !idle {
		return nil
	}
	s.send(frame)
	close(st.closing.done)
	st.closing, st.wantOpen = nil, false
	if s.err != nil {
		return errors.Join(errors.New("send close"), s.err)
	}
	return nil
}
