package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/collabedit/collab/clientaddr"
	"github.com/collabedit/collab/protocol"
)

// ErrClosed is returned by Close when called twice.
var ErrClosed = errors.New("hub closed")

// Hub serves the WebSocket endpoint: it owns one room per open document and
// one conn per socket. Create it with New, serve it as an http.Handler, and
// stop it with Close.
type Hub struct {
	node
	unsub    func() // this process's channel
	upgrader websocket.Upgrader
	cancel   context.CancelFunc // cancels node.ctx
	ioCancel context.CancelFunc // cancels node.io

	clients clientaddr.Resolver // finds client addresses behind trusted proxies
	addrs   addrCounts          // sockets open per client address

	mu    sync.Mutex
	rooms map[string]*room
	conns map[*conn]struct{}

	bgWG   sync.WaitGroup // the advertiser, memory releases
	roomWG sync.WaitGroup // one per room goroutine
	connWG sync.WaitGroup // one per connection being served
}

// New returns a Hub on store with cfg's zero fields set to their defaults.
func New(store Store, cfg Config) *Hub {
	solo := cfg.Bus == nil
	cfg.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	io, ioCancel := context.WithCancel(context.Background())
	h := &Hub{
		node: node{
			cfg:       cfg,
			store:     store,
			id:        cfg.ProcessID,
			solo:      solo,
			bus:       cfg.Bus,
			leases:    cfg.Leases,
			dir:       cfg.Directory,
			log:       cfg.Logger.With().Str("component", "hub").Logger(),
			ctx:       ctx,
			io:        io,
			ioTimeout: cfg.Leases.TTL() / 3,
			roomsDone: make(chan struct{}),
			users:     newUserLimits(&cfg),
		},
		clients:  clientaddr.Resolver{Trusted: cfg.TrustedProxies},
		cancel:   cancel,
		ioCancel: ioCancel,
		rooms:    make(map[string]*room),
		conns:    make(map[*conn]struct{}),
	}
	h.open, h.unload = h.deliverOpen, h.release
	if sb, ok := cfg.Bus.(shardedBus); ok && sb.Sharded() {
		h.chans = channels{tagged: true}
	}
	h.upgrader = websocket.Upgrader{
		// 1 KB: a client frame is an op of ~100 bytes; a larger paste
		// just takes more reads. net/http's 4 KB reader is freed with the
		// request once ServeHTTP returns, so an idle socket keeps 1 KB.
		ReadBufferSize:  1024,
		WriteBufferSize: 4096,
		// A pool shares write buffers between idle connections: an idle
		// socket then holds no 4 KB buffer of its own.
		WriteBufferPool: &sync.Pool{},
	}
	policy, bad := newOriginPolicy(cfg.AllowedOrigins)
	h.upgrader.CheckOrigin = policy.check
	h.log = h.log.With().Str("proc", h.id).Logger()
	// A misbehaving client can cause these on every message: at most 10
	// lines a second get through, so the log cannot be flooded.
	h.notice = h.log.Sample(&zerolog.BurstSampler{Burst: 10, Period: time.Second})
	h.ownEvents = ownEvents(h.id)
	if len(bad) > 0 {
		h.log.Warn().Strs("ignored", bad).Msg("allowed origins must be http(s)://host[:port]; ignoring these")
	}
	h.mem.wg = &h.bgWG
	h.router = &router{dir: h.dir, leases: h.leases, self: h.id, url: cfg.AdvertiseURL, ttl: cfg.AdvertiseTTL, timeout: h.ioTimeout,
		m: &h.metrics, log: h.log, loaded: h.loaded}
	h.pub = newPublisher(h.bus, h.solo, &h.metrics, h.log, h.io, h.ioTimeout)
	unsub, err := h.bus.Subscribe(h.chans.proc(h.id), h.onProcMsg)
	if err != nil {
		// Only forwarded ops need it; they are retried once it is back.
		h.log.Warn().Err(err).Msg("subscribe to process channel")
		unsub = func() {}
	}
	unrevoke := h.watchRevocations()
	h.unsub = func() { unsub(); unrevoke() }
	if h.dir != nil && cfg.AdvertiseURL != "" {
		h.bgWG.Add(1)
		go func() {
			defer h.bgWG.Done()
			h.router.advertise(h.ctx)
		}()
	}
	return h
}

// onProcMsg routes a message sent to this process (a forwarded op, or the
// answer to one) to its document's room.
func (h *Hub) onProcMsg(msg []byte) {
	if msg == nil {
		return // forwards are retried by their senders; nothing to resync
	}
	m, err := decodeBusMsg(msg)
	if err != nil {
		h.log.Warn().Err(err).Msg("bad process message")
		return
	}
	if m.Kind == msgForward {
		// The owner may have unloaded the document; loading it here takes
		// the lease again.
		if r := h.acquire(m.Doc); r != nil {
			r.in.busIn(&m)
			r.in.refs.Add(-1)
		}
		return
	}
	h.mu.Lock()
	r := h.rooms[m.Doc]
	h.mu.Unlock()
	if r != nil {
		r.in.busIn(&m)
	}
}

// loaded reports whether doc has a room in this process.
func (h *Hub) loaded(doc string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rooms[doc] != nil
}

// Config returns the effective configuration, defaults filled in.
func (h *Hub) Config() Config { return h.cfg }

// ServeHTTP upgrades the request to a WebSocket and serves it until the
// client leaves or the hub closes. A client address (behind trusted
// proxies: the one they name) with MaxConnsPerAddr sockets open already
// is answered 429 before the upgrade.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.closing.Load() {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	addr, remote := h.clientOf(r)
	if addr != exemptKey && !h.addrs.take(addr, h.cfg.MaxConnsPerAddr) {
		h.refuseAddr(w, addr)
		return
	}
	serving := false
	defer func() {
		if !serving && addr != exemptKey {
			h.addrs.release(addr)
		}
	}()
	id, token, ok := h.bearer(w, r, remote)
	if !ok {
		return
	}
	h.connWG.Add(1)
	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		h.connWG.Done()
		h.notice.Info().Err(err).Str("remote", remote).Str("origin", r.Header.Get("Origin")).Msg("upgrade refused")
		return
	}
	c := newConn(&h.node, ws, remote, addr)
	if !h.register(c) {
		// Close began after the check above: the writer sends 1001 and
		// stops, with the ping timer, before the socket closes.
		c.out.close(protocol.CloseGoingAway, "server shutting down", false)
		c.out.wait()
		_ = ws.Close()
		h.connWG.Done()
		return
	}
	c.startAccess(id, token)
	c.log.Debug().Str("remote", remote).Msg("connection opened")
	// Serve on a goroutine of our own and return, so that net/http lets go
	// of what it keeps for the request while its handler runs: its 4 KB
	// write buffer, the request and response, and a deep stack. Measured
	// with 10,000 idle sockets, that was a quarter of a connection's
	// memory. The hub's WaitGroup, not net/http, tracks the socket.
	serving = true
	go func() {
		defer h.connWG.Done()
		if addr != exemptKey {
			defer h.addrs.release(addr)
		}
		defer h.unregister(c)
		c.serve()
	}()
}

// clientOf returns r's client address as the key per-address limits
// count (clientaddr.Key) and as logged and given to the authenticator:
// the TCP peer's host:port, or the address a trusted proxy names.
func (h *Hub) clientOf(r *http.Request) (key, remote string) {
	a := h.clients.Of(r)
	key = clientaddr.Key(a)
	if a.IsLoopback() && !h.cfg.LimitLoopback {
		key = exemptKey
	}
	if !a.IsValid() || a == clientaddr.Peer(r.RemoteAddr) {
		return key, r.RemoteAddr
	}
	h.metrics.forwardedClients.Add(1)
	return key, a.String()
}

// deliverOpen hands an open to the document's room, starting the room if
// needed, and returns the room's inbox (nil when the client was sent
// elsewhere or the hub is closing).
func (h *Hub) deliverOpen(o origin, req protocol.Request) *inbox {
	if req.Route && h.router.routeUnloaded(h.ctx, o.c, o.connID, req.Doc) {
		return nil
	}
	for {
		r := h.acquire(req.Doc)
		if r == nil {
			o.c.sendError(unavailable(req.Doc, "", "server shutting down"))
			return nil
		}
		ok := r.in.deliver(req.Doc, command{kind: cmdOpen, from: o, req: req})
		r.in.refs.Add(-1)
		if ok {
			return r.in
		}
	}
}

// acquire returns the running room for doc with a reference held, so that
// it cannot unload before the caller's command is in its inbox.
func (h *Hub) acquire(doc string) *room {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing.Load() {
		return nil
	}
	r := h.rooms[doc]
	if r == nil {
		r = newRoom(&h.node, doc)
		h.rooms[doc] = r
		h.roomWG.Add(1)
		go func() {
			defer h.roomWG.Done()
			r.run()
		}()
	}
	r.in.refs.Add(1)
	return r
}

// release removes an idle room from the registry. It refuses while a sender
// holds a reference or a command waits, so no command is ever stranded.
func (h *Hub) release(doc string, in *inbox) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !in.idle() {
		return false
	}
	delete(h.rooms, doc)
	return true
}

// Ready reports whether the hub takes new connections: ErrClosed once
// Close has begun. It is a readiness check, with the signature of one.
func (h *Hub) Ready(context.Context) error {
	if h.closing.Load() {
		return fmt.Errorf("hub: %w: shutting down", ErrClosed)
	}
	return nil
}

// Close shuts the hub down gracefully: new connections are refused, readers
// stop taking commands, every room finishes its in-flight commits (so their
// acks are sent), then every socket is flushed and closed with 1001. It
// returns when all of that is done or ctx expires; either way every call
// the hub still has in flight to the log, the lease store, the directory
// or the bus is then cancelled. The store is the caller's to close
// afterwards.
func (h *Hub) Close(ctx context.Context) error {
	if h.closing.Swap(true) {
		return ErrClosed
	}
	h.cancel()
	h.mu.Lock()
	conns := len(h.conns)
	for c := range h.conns {
		_ = c.ws.SetReadDeadline(time.Now()) // wake its reader to notice
	}
	h.mu.Unlock()
	go func() {
		h.roomWG.Wait()
		h.bgWG.Wait()
		h.unsub()
		h.pub.close()
		close(h.roomsDone)
	}()
	done := make(chan struct{})
	go func() {
		h.connWG.Wait()
		<-h.roomsDone
		close(done)
	}()
	defer h.ioCancel() // every call still in flight ends now
	select {
	case <-done:
		h.log.Info().Int("connections", conns).Msg("hub closed")
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close hub: %w", ctx.Err())
	}
}

// register adds a connection unless the hub is closing.
func (h *Hub) register(c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing.Load() {
		return false
	}
	h.conns[c] = struct{}{}
	h.metrics.conns.Add(1)
	return true
}

func (h *Hub) unregister(c *conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	h.metrics.conns.Add(-1)
}

// queuedBytes sums what waits in every connection's send queue. It is
// read at scrape time, so sending a frame costs no shared counter.
func (h *Hub) queuedBytes() int64 {
	h.mu.Lock()
	conns := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	var n int64
	for _, c := range conns {
		q, _ := c.out.state()
		n += int64(q)
	}
	return n
}
