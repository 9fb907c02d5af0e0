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

	gate    gate      // addresses, the per-address cap, bearer tokens
	rooms   *registry // the documents loaded here, and their goroutines
	conns   connSet   // the sockets served here
	revoker revoker

	bgWG sync.WaitGroup // the advertiser, memory releases
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
		cancel:   cancel,
		ioCancel: ioCancel,
	}
	h.gate = gate{n: &h.node, clients: clientaddr.Resolver{Trusted: cfg.TrustedProxies}}
	h.rooms = newRegistry(&h.node)
	h.conns = connSet{closing: &h.closing, metrics: &h.metrics}
	h.revoker = revoker{n: &h.node, conns: &h.conns}
	h.open, h.unload = h.rooms.open, h.rooms.release
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
		m: &h.metrics, log: h.log, loaded: h.rooms.loaded}
	h.pub = newPublisher(h.bus, h.solo, &h.metrics, h.log, h.io, h.ioTimeout)
	unsub, err := h.bus.Subscribe(h.chans.proc(h.id), h.rooms.route)
	if err != nil {
		// Only forwarded ops need it; they are retried once it is back.
		h.log.Warn().Err(err).Msg("subscribe to process channel")
		unsub = func() {}
	}
	unrevoke := h.revoker.watch()
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

// Config returns the effective configuration, defaults filled in.
func (h *Hub) Config() Config { return h.cfg }

// ServeHTTP upgrades the request to a WebSocket and serves it until the
// client leaves or the hub closes. A client address (behind trusted
// proxies: the one they name) with MaxConnsPerAddr sockets open already
// is answered 429 before the upgrade.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.conns.begin() {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	p, ok := h.gate.enter(w, r)
	if !ok {
		h.conns.done()
		return
	}
	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		h.conns.done()
		h.gate.leave(p.addr)
		h.notice.Info().Err(err).Str("remote", p.remote).Str("origin", r.Header.Get("Origin")).Msg("upgrade refused")
		return
	}
	c := newConn(&h.node, ws, p.remote, p.addr)
	if !h.conns.add(c) {
		// Close began after the check above: the writer sends 1001 and
		// stops, with the ping timer, before the socket closes.
		c.out.close(protocol.CloseGoingAway, "server shutting down", false)
		c.out.wait()
		_ = ws.Close()
		h.gate.leave(p.addr)
		h.conns.done()
		return
	}
	c.acc.start(p.id, p.token)
	c.log.Debug().Str("remote", p.remote).Msg("connection opened")
	// Serve on a goroutine of our own and return, so that net/http lets go
	// of what it keeps for the request while its handler runs: its 4 KB
	// write buffer, the request and response, and a deep stack. Measured
	// with 10,000 idle sockets, that was a quarter of a connection's
	// memory. The hub's WaitGroup, not net/http, tracks the socket.
	go func() {
		defer h.conns.done()
		defer h.gate.leave(p.addr)
		defer h.conns.remove(c)
		c.serve()
	}()
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
	h.rooms.close()
	h.cancel()
	conns := h.conns.all() // none is added once closing is set
	for _, c := range conns {
		_ = c.ws.SetReadDeadline(time.Now()) // wake its reader to notice
	}
	go func() {
		h.rooms.wait()
		h.bgWG.Wait()
		h.unsub()
		h.pub.close()
		close(h.roomsDone)
	}()
	done := make(chan struct{})
	go func() {
		h.conns.wait()
		<-h.roomsDone
		close(done)
	}()
	defer h.ioCancel() // every call still in flight ends now
	select {
	case <-done:
		h.log.Info().Int("connections", len(conns)).Msg("hub closed")
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close hub: %w", ctx.Err())
	}
}
