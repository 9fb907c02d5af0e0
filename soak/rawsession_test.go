package soak

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabedit/collab/protocol"
)

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
// in flight to be acknowledged, and for an open in progress to be
// answered (settleClose), so nothing is left hanging while the document
// is closed.
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

// settleClose sends a pending close once nothing is in flight: no op,
// and no open, whose answer would otherwise come after the close, to a
// document this client has closed (an "opened" then looks like one it
// never asked for).
func (s *rawSession) settleClose(st *rawState) error {
	if st.closing == nil {
		return nil
	}
	s.c.mu.Lock()
	idle := s.c.doc.pending() == "" && !s.c.doc.opening()
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
		return fmt.Errorf("send close: %w", s.err)
	}
	return nil
}
