package hub

import (
	"sync"

	"github.com/collabedit/collab/protocol"
)

// registry is the documents loaded in this process: one room each,
// started on the first open (or forwarded op) and removed when it
// unloads. It owns the room goroutines (wg). Safe for concurrent use.
type registry struct {
	n *node

	mu     sync.Mutex
	rooms  map[string]*room
	closed bool           // no room starts once set (close)
	wg     sync.WaitGroup // one per room goroutine
}

func newRegistry(n *node) *registry {
	return &registry{n: n, rooms: make(map[string]*room)}
}

// open hands an open to the document's room, starting the room if
// needed, and returns the room's inbox (nil when the client was sent
// elsewhere or the hub is closing). It is node.open.
func (g *registry) open(o origin, req protocol.Request) *inbox {
	if req.Route && g.n.router.routeUnloaded(g.n.ctx, o.c, o.connID, req.Doc) {
		return nil
	}
	for {
		r := g.acquire(req.Doc)
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
// it cannot unload before the caller's command is in its inbox; nil once
// the hub is closing.
func (g *registry) acquire(doc string) *room {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	r := g.rooms[doc]
	if r == nil {
		r = newRoom(g.n, doc)
		g.rooms[doc] = r
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			r.run()
		}()
	}
	r.in.refs.Add(1)
	return r
}

// release removes an idle room from the registry. It refuses while a sender
// holds a reference or a command waits, so no command is ever stranded.
// It is node.unload.
func (g *registry) release(doc string, in *inbox) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !in.idle() {
		return false
	}
	delete(g.rooms, doc)
	return true
}

// loaded reports whether doc has a room in this process.
func (g *registry) loaded(doc string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.rooms[doc] != nil
}

// route hands a message sent to this process (a forwarded op, or the
// answer to one) to its document's room.
func (g *registry) route(msg []byte) {
	if msg == nil {
		return // forwards are retried by their senders; nothing to resync
	}
	m, err := decodeBusMsg(msg)
	if err != nil {
		g.n.log.Warn().Err(err).Msg("bad process message")
		return
	}
	if m.Kind == msgForward {
		// The owner may have unloaded the document; loading it here takes
		// the lease again.
		if r := g.acquire(m.Doc); r != nil {
			r.in.busIn(&m)
			r.in.refs.Add(-1)
		}
		return
	}
	g.mu.Lock()
	r := g.rooms[m.Doc]
	g.mu.Unlock()
	if r != nil {
		r.in.busIn(&m)
	}
}

// close stops rooms from starting: acquire returns nil from then on.
// Every room started before it is one wait waits for.
func (g *registry) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// wait returns once every room goroutine has; call it after close.
func (g *registry) wait() { g.wg.Wait() }
