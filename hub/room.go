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
	bus  *busMsg   // cmdBus; nil: messages may have been lost
	at   time.Time // cmdOp: when it was read from the socket
}

type commitResult struct {
	version int64
	err     error
}

// leaseAnswer is the lease store's answer to a room's question.
type leaseAnswer struct {
	holder string
	err    error
	sent   time.Time
}

// room owns one open document. Its goroutine (run) is the only one touching
// the state below the marker line, so commands on a document are serialised
// without locks and without retries: a stale op is transformed, not bounced.
//
// Commits are pipelined: an accepted op is handed to the store at once and
// the room moves on; the store answers (in order, or at once when it
// refuses at the door), and the room releases results in version order:
// only then is an op applied to the committed text, acked and broadcast.
// So a hot document is not limited to one fsync per op, and nothing
// uncommitted is ever shown to anyone.
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

	results  *mailbox[commitResult]
	leases   *mailbox[leaseAnswer]
	rosters  *mailbox[[]protocol.Peer]
	onCommit func(eventlog.Event, error)
	bg       sync.WaitGroup // lease and presence calls in flight

	// --- owned by run ---
	loaded       bool
	broken       bool           // a commit failed: reload once nothing is pending
	stalled      bool           // the store missed CommitTimeout: refuse ops until it answers
	text         *document.Text // committed text
	version      int64          // committed version
	next         int64          // the first pending version whose result is not released yet
	specLen      int            // length after every accepted op, pending ones too
	pendingBytes int            // payload bytes handed to the store and not answered
	hist         history
	ids          map[string]int64 // op id → version, for every op in hist
	subs         map[*conn]struct{}
	idle         *time.Timer
	memReported  int // hist.bytes as last added to the hub's gauge
	memPeak      int // the most hist.bytes plus pending bytes and text held at once

	// Across processes: the lease decides who sequences (ownership.go);
	// the others follow the published events and forward their clients'
	// ops to the holder.
	own     ownership
	waiting []waitingOp // ops that arrived while no owner was known
	heard   time.Time   // last event from the bus, for the position check
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
		results: newMailbox[commitResult](),
		leases:  newMailbox[leaseAnswer](),
		rosters: newMailbox[[]protocol.Peer](),
		ids:     make(map[string]int64),
		subs:    make(map[*conn]struct{}),
		fwd:     make(map[string]*forward),
		peers:   newPeers(),
		own:     ownership{self: h.id, ttl: h.leases.TTL()},
	}
	if h.solo {
		r.own.permanent()
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

// committed is the store's callback, run on the store's writer goroutine
// (or the room's own, for an append refused at the door): it must not
// block, so it only queues the result.
func (r *room) committed(e eventlog.Event, err error) {
	r.results.put(commitResult{version: e.Version, err: err})
}

// pending is the number of ops handed to the store whose results are not
// released yet.
func (r *room) pending() int64 { return r.hist.head() - r.next }

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
		r.claimNow()
		r.reconcilePeers()
	}
	defer r.exit()
	presTimer := time.NewTimer(time.Hour)
	presTimer.Stop()
	defer presTimer.Stop()
	r.peers.timer = presTimer
	ticker := time.NewTicker(r.h.cfg.ClusterTick)
	defer ticker.Stop()
	stopping := r.h.ctx.Done()
	var results []commitResult
	var answers []leaseAnswer
	var rosters [][]protocol.Peer
	empty := true // the timer above is armed
	for {
		select {
		case cmd := <-r.inbox:
			r.handle(cmd)
		case now := <-ticker.C:
			r.tick(now)
		case now := <-presTimer.C:
			r.flushPresence(now)
		case <-r.results.wake:
			results = r.results.take(results)
			for _, res := range results {
				r.settle(res)
			}
			r.release()
		case <-r.leases.wake:
			answers = r.leases.take(answers)
			for _, a := range answers {
				r.onLease(a)
			}
		case <-r.rosters.wake:
			rosters = r.rosters.take(rosters)
			for _, list := range rosters {
				r.applyRoster(list)
			}
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
		if d := r.hist.bytes - r.memReported; d != 0 {
			r.h.metrics.historyBytes.Add(int64(d))
			r.memReported = r.hist.bytes
			r.memPeak = max(r.memPeak, r.hist.bytes+r.pendingBytes+r.specLen)
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

// exit waits for the room's lease and presence calls, then gives the
// lease up so another process can take the document at once.
func (r *room) exit() {
	r.h.metrics.historyBytes.Add(-int64(r.memReported))
	r.bg.Wait()
	// A question still in flight may have taken the lease: learn it, so
	// that it is released now rather than left to expire.
	for _, a := range r.leases.take(nil) {
		r.own.answer(a.holder, a.err, a.sent, time.Now())
	}
	r.releaseLease()
	if r.memPeak >= bigRoom {
		r.h.releaseMemory()
	}
	for _, w := range r.waiting {
		w.refuse(r, "document unloaded; retry")
	}
	r.waiting = nil
}

func (r *room) handle(cmd command) {
	switch cmd.kind {
	case cmdOpen:
		r.open(cmd.c, cmd.req)
	case cmdOp:
		if err := r.submit(cmd.c, cmd.req, cmd.at); err != nil {
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
