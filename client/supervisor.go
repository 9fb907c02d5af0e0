package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabedit/collab/protocol"
)

// connect dials one socket and starts its session (not yet attached).
func (c *Client) connect(ctx context.Context) (*session, error) {
	url := c.endpoint()
	ws, resp, err := c.cfg.Dialer.DialContext(ctx, url, c.cfg.Header)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		c.unreachable(url)
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	s := newSession(c.ctx, url, ws, c.log)
	if c.cfg.Token != nil {
		// Queued first, so the server reads it before any open.
		tok, err := c.cfg.Token(ctx)
		if err != nil {
			_ = ws.Close()
			return nil, fmt.Errorf("token for %s: %w", url, err)
		}
		s.send(protocol.AppendRequest(nil, protocol.Request{Type: protocol.TypeAuth, Token: tok}))
	}
	if h := c.cfg.OnConnect; h != nil {
		h(url)
	}
	s.start(c.handleFrame)
	return s, nil
}

// supervise owns the connection: it attaches each session to the open
// documents, waits for it to end, and reconnects with backoff until the
// client is closed.
func (c *Client) supervise(s *session) {
	bo := newBackoff(c.cfg.ReconnectMin, c.cfg.ReconnectMax)
	for {
		started := time.Now()
		c.attachAll(s)
		select {
		case <-s.done:
		case <-c.ctx.Done():
			s.cancel()
		}
		<-s.done
		c.detachAll(s)
		if c.ctx.Err() != nil {
			c.disconnected(s, ErrClosed)
			return
		}
		moved := c.takeMove()
		if moved {
			c.disconnected(s, ErrMoved)
		} else {
			c.logDrop(s.err)
			c.disconnected(s, s.err)
		}
		if time.Since(started) > c.cfg.ReconnectMax {
			bo.reset() // it was a working connection, not a flapping one
		}
		for s = nil; s == nil; moved = false {
			if !moved && !sleepCtx(c.ctx, bo.next()) {
				return
			}
			var err error
			if s, err = c.connect(c.ctx); err != nil {
				c.log.Debug().Err(err).Msg("reconnect failed")
			}
		}
		c.log.Debug().Msg("reconnected")
	}
}

// disconnected reports the end of s to Config.OnDisconnect.
func (c *Client) disconnected(s *session, err error) {
	if h := c.cfg.OnDisconnect; h != nil {
		h(s.url, err)
	}
}

func (c *Client) logDrop(err error) {
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce) && ce.Code == protocol.CloseSlowConsumer:
		c.log.Warn().Msg("server closed the connection: slow consumer; reconnecting")
	case errors.As(err, &ce):
		c.log.Info().Int("code", ce.Code).Str("reason", ce.Text).Msg("server closed the connection; reconnecting")
	default:
		c.log.Info().Err(err).Msg("connection lost; reconnecting")
	}
}

// attachAll makes s the current session and (re)opens every document on it.
func (c *Client) attachAll(s *session) {
	c.mu.Lock()
	c.sess = s
	docs := c.docList()
	c.mu.Unlock()
	for _, d := range docs {
		d.attach(s)
	}
}

// detachAll tells every document that s is gone.
func (c *Client) detachAll(s *session) {
	c.mu.Lock()
	if c.sess == s {
		c.sess = nil
	}
	docs := c.docList()
	c.mu.Unlock()
	for _, d := range docs {
		d.detach(s)
	}
}

// handleFrame runs on s's reader goroutine for every server frame.
func (c *Client) handleFrame(s *session, data []byte) {
	msg, err := protocol.DecodeMessage(data)
	if err != nil {
		c.log.Warn().Err(err).Msg("bad frame from server")
		return
	}
	if d := c.lookup(msg.Doc); d != nil {
		d.handle(s, msg)
		return
	}
	switch {
	case msg.Type == protocol.TypeAuthenticated:
		s.refreshing = false
	case msg.Type == protocol.TypeError && msg.Code == protocol.CodeUnauth && c.cfg.Token != nil && msg.Doc == "":
		// The token expires soon: present a fresh one on this connection,
		// off the reader goroutine. The server warns once per token; an
		// unauthorized error while a refresh is on its way is that
		// refresh refused, and asking again would loop.
		if s.refreshing {
			s.refreshing = false
			break
		}
		s.refreshing = true
		c.after(0, func() { c.refreshToken(s) })
	}
	if msg.Type == protocol.TypeError && c.cfg.OnError != nil {
		c.cfg.OnError(msg.Doc, fmt.Errorf("server error: %w", msg.Err()))
	}
}

// refreshToken sends a fresh token on s, if it is still the connection.
func (c *Client) refreshToken(s *session) {
	tok, err := c.cfg.Token(s.ctx)
	if err != nil {
		c.log.Warn().Err(err).Msg("token refresh failed; the server closes the connection when the token expires")
		return
	}
	if s.alive() {
		s.send(protocol.AppendRequest(nil, protocol.Request{Type: protocol.TypeAuth, Token: tok}))
	}
}

// after runs fn after delay on a goroutine the client owns: Close waits for
// it, and it does not run at all once Close has begun.
func (c *Client) after(delay time.Duration, fn func()) {
	time.AfterFunc(delay, func() {
		c.mu.Lock()
		if c.closing {
			c.mu.Unlock()
			return
		}
		c.wg.Add(1)
		c.mu.Unlock()
		defer c.wg.Done()
		fn()
	})
}

// backoff yields exponentially growing delays with jitter.
type backoff struct {
	min, max, cur time.Duration
}

func newBackoff(min, max time.Duration) *backoff { return &backoff{min: min, max: max, cur: min} }

func (b *backoff) reset() { b.cur = b.min }

// next returns a delay in [cur/2, cur] and doubles cur up to max.
func (b *backoff) next() time.Duration {
	d := b.cur/2 + rand.N(b.cur/2+1)
	b.cur = min(2*b.cur, b.max)
	return d
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
