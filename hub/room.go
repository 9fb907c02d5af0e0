package hub

import (
	"bytes"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/protocol"
)

type cmdKind uint8

const (
	cmdOpen cmdKind = iota
	cmdOp
	cmdLeave
	cmdBus
	cmdPresence
)

// command is what a connection asks of a room.
type command struct {
	kind cmdKind
	c    *conn
	req  protocol.Request
	bus  *busMsg // cmdBus; nil: messages may have been lost
}

type commitResult struct {
	version int64
	err     error
}

// room owns one open document. Its goroutine (run) is the only one touching
// the state below the marker line, so commands on a document are serialised
// without locks and without retries: a stale op is transformed, not bounced.
//
// Commits are pipelined: an accepted op is handed to the store at once and
// the room moves on; the store's group commit answers in order, and only
// then is the op applied to the committed text, acked and broadcast. So a
// hot document is not limited to one fsync per op, and nothing uncommitted
// is ever shown to anyone.
type room struct {
	h     *Hub
	doc   string
	log   zerolog.Logger
	inbox chan command
	done  chan struct{} // closed when run returns
	refs  atomic.Int32  // senders between acquire and delivery
	// lostBus is set when a bus message was dropped because the inbox was
	// full; the next tick reads the log.
	lostBus atomic.Bool

	resMu    sync.Mutex
	results  []commitResult
	resWake  chan struct{}
	onCommit func(eventlog.Event, error)

	// --- owned by run ---
	loaded  bool
	broken  bool           // a commit failed: reload once nothing is pending
	text    *document.Text // committed text
	version int64          // committed version
	sent    int64          // ops up to here have been broadcast
	specLen int            // length after every accepted op, pending ones too
	hist    history
	ids     map[string]int64 // op id → version, for every op in hist
	subs    map[*conn]struct{}
	idle    *time.Timer

	// Across processes: the owner holds the lease and sequences; the
	// others follow the published events and forward their clients' ops.
	owner   bool
	holder  string    // lease holder as last seen; "" unknown
	claimed time.Time // when holder was last asked for
	renewed time.Time
	heard   time.Time // last event from the bus, for the position check
	fwd     map[string]*forward
	peers   peers

	// Routing (route.go): the holder's advertised URL, looked up once per
	// holder.
	urlOf     string
	holderURL string
}

func newRoom(h *Hub, doc string) *room {
	r := &room{
		h:       h,
		doc:     doc,
		log:     h.log.With().Str("doc", doc).Logger(),
		inbox:   make(chan command, 256),
		done:    make(chan struct{}),
		resWake: make(chan struct{}, 1),
		ids:     make(map[string]int64),
		subs:    make(map[*conn]struct{}),
		fwd:     make(map[string]*forward),
		peers:   newPeers(),
	}
	r.onCommit = r.committed
	return r
}

// deliver hands a command to the room. It blocks while the inbox is full
// (backpressure on that one client) and reports false if the room has
// stopped.
func (r *room) deliver(cmd command) bool {
	select {
	case r.inbox <- cmd:
		return true
	case <-r.done:
		if cmd.kind == cmdOp {
			cmd.c.sendError(unavailable(r.doc, cmd.req.ID, "document is not loaded; reopen it"))
		}
		return false
	}
}

// committed is the store's callback, run on the store's writer goroutine:
// it must not block, so it only queues the result.
func (r *room) committed(e eventlog.Event, err error) {
	r.resMu.Lock()
	r.results = append(r.results, commitResult{version: e.Version, err: err})
	r.resMu.Unlock()
	select {
	case r.resWake <- struct{}{}:
	default:
	}
}

func (r *room) pending() int64 { return r.hist.head() - r.version }

func (r *room) run() {
	defer close(r.done)
	r.h.metrics.rooms.Add(1)
	defer r.h.metrics.rooms.Add(-1)
	r.idle = time.NewTimer(r.h.cfg.IdleTimeout)
	defer r.idle.Stop()
	// Subscribe, then load: an event committed in between is either in
	// what we load or arrives after it, never lost.
	if !r.h.solo {
		if cancel, err := r.h.bus.Subscribe(docChannel(r.doc), func(msg []byte) {
			if msg != nil && bytes.HasPrefix(msg, r.h.ownEvents) {
				return // our own publication
			}
			r.busIn(parseBus(r, msg))
		}); err != nil {
			r.log.Warn().Err(err).Msg("subscribe to document channel; following the log only")
		} else {
			defer cancel()
		}
	}
	if err := r.load(); err != nil {
		r.log.Error().Err(err).Msg("load document")
	} else {
		r.claim()
		r.reconcilePeers()
	}
	defer r.releaseLease()
	presTimer := time.NewTimer(time.Hour)
	presTimer.Stop()
	defer presTimer.Stop()
	r.peers.timer = presTimer
	ticker := time.NewTicker(r.h.cfg.ClusterTick)
	defer ticker.Stop()
	stopping := r.h.ctx.Done()
	var results []commitResult
	empty := true // the timer above is armed
	for {
		select {
		case cmd := <-r.inbox:
			r.handle(cmd)
		case now := <-ticker.C:
			r.tick(now)
		case now := <-presTimer.C:
			r.flushPresence(now)
		case <-r.resWake:
			results = r.takeResults(results)
			for _, res := range results {
				r.finish(res)
			}
			r.maybeReload()
		case <-r.idle.C:
			if len(r.subs) == 0 && r.pending() == 0 {
				if r.h.release(r) {
					return
				}
				empty = false // a sender is on its way in: re-arm below
			}
		case <-stopping:
			stopping = nil // drain: keep going until nothing is pending
		}
		if stopping == nil && r.pending() == 0 {
			return
		}
		// Arm the idle timer when the room becomes empty, not on every
		// pass: bus events and the 250ms tick would otherwise postpone the
		// unload forever.
		if now := len(r.subs) == 0 && r.pending() == 0; now != empty {
			empty = now
			if empty {
				r.idle.Reset(r.h.cfg.IdleTimeout)
			}
		}
	}
}

func (r *room) takeResults(buf []commitResult) []commitResult {
	r.resMu.Lock()
	buf, r.results = r.results, buf[:0]
	r.resMu.Unlock()
	return buf
}

func (r *room) handle(cmd command) {
	switch cmd.kind {
	case cmdOpen:
		r.open(cmd.c, cmd.req)
	case cmdOp:
		if err := r.submit(cmd.c, cmd.req); err != nil {
			r.h.metrics.opsRefused.Add(1)
			cmd.c.sendError(err)
		}
	case cmdLeave:
		delete(r.subs, cmd.c)
		r.connLeft(cmd.c)
	case cmdPresence:
		r.setPresence(cmd.c, cmd.req.Peer)
	case cmdBus:
		r.onBus(cmd.bus)
	}
}

// parseBus decodes a bus message for the room's inbox; nil (resync) stays
// nil, and an undecodable message becomes a resync too.
func parseBus(r *room, msg []byte) *busMsg {
	if msg == nil {
		return nil
	}
	m, err := decodeBusMsg(msg)
	if err != nil {
		r.log.Warn().Err(err).Msg("bad bus message")
		return nil
	}
	return &m
}
