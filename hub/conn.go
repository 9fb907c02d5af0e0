package hub

import (
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/collabedit/collab/protocol"
)

var connSeq atomic.Uint64

// errInvalidUTF8 ends a connection that sent a text frame that is not
// UTF-8; serve closes it with 1007.
var errInvalidUTF8 = errors.New("text frame is not valid UTF-8")

var _ subscriber = (*conn)(nil)

// conn is one WebSocket client. Its reader runs on a goroutine the hub
// starts after the upgrade (ServeHTTP has returned by then) and is the
// only one touching subs; its writer owns everything written to the
// socket. Rooms reach it only through send and sendError (subscriber).
type conn struct {
	n      *node
	ws     *websocket.Conn
	id     string
	log    zerolog.Logger
	remote string // the client's address (clientaddr), for the logs and the authenticator
	addr   string // the client's address key (clientaddr.Key)
	// limitKey is what per-user limits count this connection as: its
	// user, or its address before it authenticates and when anonymous.
	// Reader goroutine only.
	limitKey string
	out      *writer
	limiter  *rate.Limiter     // messages per second
	inserts  *rate.Limiter     // inserted bytes per second
	subs     map[string]*inbox // reader goroutine only: the rooms of its open documents
	// strikes counts rate-limit refusals in a row; a client that ignores
	// them is disconnected rather than answered forever.
	strikes int
	acc     access // who it acts as, and its roles (access.go)
}

func newConn(h *node, ws *websocket.Conn, remote, addr string) *conn {
	id := strconv.FormatUint(connSeq.Add(1), 36)
	c := &conn{
		n:       h,
		ws:      ws,
		id:      id,
		remote:  remote,
		addr:    addr,
		log:     h.log.With().Str("conn", id).Logger(),
		limiter: rate.NewLimiter(rate.Limit(h.cfg.RatePerSecond), h.cfg.RateBurst),
		inserts: rate.NewLimiter(rate.Limit(h.cfg.InsertRate), h.cfg.InsertBurst),
		subs:    make(map[string]*inbox),
	}
	c.acc.c = c
	c.out = newWriter(ws, &h.cfg, &h.metrics, func(err error) {
		c.log.Debug().Err(err).Msg("write failed")
		_ = ws.SetReadDeadline(time.Now()) // wake the reader
	})
	return c
}

// asOrigin is this connection as the origin of a command; author is the
// user its token names ("" without access control: the op id says).
func (c *conn) asOrigin() origin {
	return origin{c: c, proc: c.n.id, connID: c.id, at: time.Now(), author: c.acc.identity().Subject, limitKey: c.limitKey}
}

// send queues a frame without blocking. A client too far behind is closed
// with CloseSlowConsumer; it can reopen with its version and catch up.
func (c *conn) send(frame []byte) {
	if _, overflow := c.out.push(frame, protocol.CloseSlowConsumer); overflow {
		c.n.metrics.slowConsumers.Add(1)
		c.log.Warn().Msg("slow consumer disconnected")
		// Wake the reader so the connection is torn down promptly.
		_ = c.ws.SetReadDeadline(time.Now())
	}
}

// closeWith closes the connection with code and wakes its reader, from
// any goroutine.
func (c *conn) closeWith(code int, reason string) {
	c.out.close(code, reason, true)
	_ = c.ws.SetReadDeadline(time.Now())
}

// sendError sends a refusal, counted by code for /metrics.
func (c *conn) sendError(e *protocol.Error) {
	c.n.metrics.refused(e.Code)
	c.send(protocol.AppendError(nil, e))
}

// serve runs the connection until the client leaves, misbehaves, or the hub
// shuts down, and returns only after its writer has stopped.
func (c *conn) serve() {
	err := c.readLoop()
	c.acc.stop()
	c.leaveAll()
	switch {
	case c.n.closing.Load():
		// Let in-flight commits finish so their acks go out first.
		<-c.n.roomsDone
		c.out.close(protocol.CloseGoingAway, "server shutting down", true)
	case errors.Is(err, websocket.ErrReadLimit):
		c.n.notice.Info().Str("remote", c.remote).Str("conn", c.id).Int64("limit", 4*c.n.cfg.MaxMessageBytes).Msg("frame over the hard limit; closing 1009")
		c.out.close(protocol.CloseTooLarge, "frame too large", true)
	case errors.Is(err, errInvalidUTF8):
		c.out.close(protocol.CloseInvalidPayload, "text frame is not valid UTF-8", true)
	default:
		c.out.close(websocket.CloseNormalClosure, "", true)
	}
	c.out.wait() // the close above started the writer if it was not running
	_ = c.ws.Close()
	code, _ := c.out.closeReason()
	c.log.Debug().Err(err).Int("close_code", code).Msg("connection closed")
}

func (c *conn) readLoop() error {
	hard := 4 * c.n.cfg.MaxMessageBytes
	c.ws.SetReadLimit(hard)
	_ = c.ws.SetReadDeadline(time.Now().Add(c.n.cfg.PongWait))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(c.n.cfg.PongWait))
	})
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			return err
		}
		if _, closed := c.out.state(); c.n.closing.Load() || closed {
			return nil
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(c.n.cfg.PongWait))
		if typ == websocket.TextMessage && !utf8.Valid(data) {
			// RFC 6455 §8.1: a text frame that is not UTF-8 fails the
			// connection (1007); decoding it would turn the bad bytes into
			// U+FFFD and store text the client never sent.
			return errInvalidUTF8
		}
		if !c.screen(typ, data) {
			if c.strikes > 100 {
				c.n.notice.Info().Str("remote", c.remote).Str("conn", c.id).Msg("rate limit ignored; closing 1008")
				c.out.close(protocol.ClosePolicy, "rate limit ignored", false)
				return nil
			}
			continue
		}
		req, err := protocol.DecodeRequest(data)
		if err != nil {
			var pe *protocol.Error
			if errors.As(err, &pe) {
				c.sendError(pe)
			}
			continue
		}
		c.dispatch(req)
	}
}

// screen applies the checks that come before decoding: frame type, size and
// rate. It answers the client itself when it refuses.
func (c *conn) screen(typ int, data []byte) bool {
	switch {
	case typ != websocket.TextMessage:
		c.sendError(protocol.Errorf(protocol.CodeBadRequest, "binary frames are not part of the protocol; send JSON text frames"))
	case int64(len(data)) > c.n.cfg.MaxMessageBytes:
		c.n.notice.Info().Str("remote", c.remote).Str("conn", c.id).Int("bytes", len(data)).Msg("message over the limit refused")
		c.sendError(protocol.Errorf(protocol.CodeTooLarge, "message of %d bytes is over the limit of %d", len(data), c.n.cfg.MaxMessageBytes))
	case !c.limiter.Allow():
		c.strikes++
		c.n.metrics.rateLimited.Add(1)
		c.sendError(protocol.Errorf(protocol.CodeRateLimited, "over %g messages/s; slow down", c.n.cfg.RatePerSecond))
		return false
	case !c.n.allowUser(c.n.users.msgs, c.limitKey, 1):
		c.strikes++
		c.n.metrics.rateLimited.Add(1)
		c.n.metrics.userRateLimited.Add(1)
		c.sendError(protocol.Errorf(protocol.CodeRateLimited, "over %g messages/s for this user across all its connections; slow down", c.n.cfg.UserRate))
		return false
	default:
		c.strikes = 0
		return true
	}
	return false
}

func (c *conn) dispatch(req protocol.Request) {
	switch {
	case req.Type == protocol.TypePing:
		// Answered here, by the reader, at once: no room is involved, so
		// a pong says that this socket and this process are alive.
		c.send(protocol.AppendPong(nil, req.ID))
		return
	case req.Type == protocol.TypeAuth:
		c.acc.authenticate(req.Token)
		return
	case c.acc.identity() == nil:
		// Unauthenticated sockets hold no documents (§18).
		c.sendError(&protocol.Error{Code: protocol.CodeUnauth, Doc: req.Doc, ID: req.ID,
			Message: "send auth with a token first"})
		return
	}
	r := c.subs[req.Doc]
	switch req.Type {
	case protocol.TypeOpen:
		if r == nil && len(c.subs) >= c.n.cfg.MaxDocsPerConn {
			c.sendError(&protocol.Error{Code: protocol.CodeTooLarge, Doc: req.Doc,
				Message: "too many documents open on this connection (limit " + strconv.Itoa(c.n.cfg.MaxDocsPerConn) + ")"})
			return
		}
		if r == nil && !c.acc.admit(req) {
			return
		}
		if req.Limits {
			c.send(c.n.limitsFrame(req.Doc))
		}
		if r = c.n.open(c.asOrigin(), req); r != nil {
			c.subs[req.Doc] = r
		}
	case protocol.TypeOp, protocol.TypeClose, protocol.TypePresence:
		if r == nil {
			c.sendError(&protocol.Error{Code: protocol.CodeNotOpen, Doc: req.Doc, ID: req.ID,
				Message: "document " + strconv.Quote(req.Doc) + " is not open on this connection; send open first"})
			return
		}
		if req.Type == protocol.TypeClose {
			c.leave(req.Doc)
			return
		}
		kind := cmdOp
		if req.Type == protocol.TypePresence {
			kind = cmdPresence
			if id := c.acc.identity(); id.Subject != "" {
				req.Peer.Name = displayName(id, req.Peer.Name) // the token's, never what the client says (but a guest's, marked)
			}
		} else if !c.acc.mayWrite(req) {
			return
		} else if !c.mayInsert(req) {
			return
		}
		r.deliver(req.Doc, command{kind: kind, from: c.asOrigin(), req: req})
	}
}

// leave closes doc on this connection.
func (c *conn) leave(doc string) {
	if r := c.subs[doc]; r != nil {
		delete(c.subs, doc)
		delete(c.acc.roles, doc)
		r.deliver(doc, command{kind: cmdLeave, from: origin{c: c, connID: c.id}})
	}
}

func (c *conn) leaveAll() {
	for doc, r := range c.subs {
		r.deliver(doc, command{kind: cmdLeave, from: origin{c: c, connID: c.id}})
		delete(c.subs, doc)
	}
}

// mayInsert applies the inserted-bytes limits, of the connection and of
// its user, to an op; it answers a refusal itself.
func (c *conn) mayInsert(req protocol.Request) bool {
	n := insertedBytes(req.Op)
	if n <= 0 {
		return true
	}
	msg := ""
	switch {
	case !c.inserts.AllowN(time.Now(), n):
		msg = fmt.Sprintf("over %g bytes/s of inserted text; nothing was applied, resend later", c.n.cfg.InsertRate)
	case !c.n.allowUser(c.n.users.bytes, c.limitKey, n):
		c.n.metrics.userInsertLimited.Add(1)
		msg = fmt.Sprintf("over %g bytes/s of inserted text for this user across all its connections; nothing was applied, resend later", c.n.cfg.UserInsertRate)
	default:
		return true
	}
	c.n.metrics.rateLimited.Add(1)
	c.sendError(&protocol.Error{Code: protocol.CodeRateLimited, Doc: req.Doc, ID: req.ID, Message: msg})
	return false
}
