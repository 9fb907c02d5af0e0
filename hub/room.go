package hub

import (
	"bytes"
	"time"

	"github.com/rs/zerolog"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/protocol"
)

type commitResult struct {
	version int64
	err     error
}

// room owns one open document. Its goroutine (run) is the only one touching
// its parts, so commands on a document are serialised without locks and
// without retries: a stale op is transformed, not bounced. The room itself
// only selects, dispatches and does the I/O; the state lives in four parts
// that each own their fields and do no I/O of their own:
//
//   - seq, the sequencer: text, version, history, op ids, pending commits;
//   - own, the lease state machine (ownership.go), asked through lease;
//   - fol, the follower: forwards in flight and ops held for an owner;
//   - peers, the roster: presence.
//
// Commits are pipelined: an accepted op is handed to the store at once and
// the room moves on; the store answers (in order, or at once when it
// refuses at the door), and the sequencer releases results in version
// order: only then is an op applied to the committed text, acked and
// broadcast. So a hot document is not limited to one fsync per op, and
// nothing uncommitted is ever shown to anyone.
type room struct {
	h    *Hub
	doc  string
	log  zerolog.Logger
	in   *inbox
	subs audience

	seq   *sequencer
	own   ownership
	lease *leaseCalls
	fol   follower
	peers *roster
	out   *courier

	results  *mailbox[commitResult]
	rosters  *mailbox[[]protocol.Peer]
	onCommit func(eventlog.Event, error) // the store's callback: queues the result
	outs     []outcome                   // reused between releases

	idle        *time.Timer
	memReported int // hist.bytes as last added to the hub's gauge
	memPeak     int // the most hist.bytes plus pending bytes and text held at once
}

func newRoom(h *Hub, doc string) *room {
	r := &room{
		h:       h,
		doc:     doc,
		log:     h.log.With().Str("doc", doc).Logger(),
		in:      newInbox(),
		subs:    make(audience),
		seq:     newSequencer(doc, limitsOf(&h.cfg)),
		own:     ownership{self: h.id, ttl: h.leases.TTL()},
		fol:     newFollower(),
		results: newMailbox[commitResult](),
		rosters: newMailbox[[]protocol.Peer](),
		out:     &courier{doc: doc, self: h.id, pub: h.pub, m: &h.metrics, pres: h.cfg.Presence, ttl: h.cfg.PresenceTTL},
	}
	r.lease = &leaseCalls{leases: h.leases, dir: h.dir, doc: doc, self: h.id, solo: h.solo,
		timeout: h.ioTimeout, io: h.io, answers: newMailbox[leaseAnswer]()}
	r.peers = newRoster(doc, h.id, r.out)
	if h.solo {
		r.own.permanent()
	}
	results := r.results
	r.onCommit = func(e eventlog.Event, err error) { results.put(commitResult{version: e.Version, err: err}) }
	return r
}

// run is the room's goroutine: subscribe, load, then serve commands,
// commit results, lease answers, rosters and timers until the document
// unloads or the hub closes and nothing is pending.
func (r *room) run() {
	defer close(r.in.done)
	r.h.metrics.rooms.Add(1)
	defer r.h.metrics.rooms.Add(-1)
	r.idle = time.NewTimer(r.h.cfg.IdleTimeout)
	defer r.idle.Stop()
	// Subscribe, then load: an event committed in between is either in
	// what we load or arrives after it, never lost.
	if !r.h.solo {
		if cancel, err := r.h.bus.Subscribe(docChannel(r.doc), fromBus(r.in, r.h.ownEvents, &r.log)); err != nil {
			r.log.Warn().Err(err).Msg("subscribe to document channel; following the log only")
		} else {
			defer cancel()
		}
	}
	if err := r.reload(); err != nil {
		r.log.Error().Err(err).Msg("load document")
	} else {
		if a, ok := r.lease.claim(&r.own); ok {
			r.onLease(a)
		}
		r.out.listPeers(r.rosters)
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
	empty := true // the idle timer above is armed
	for {
		select {
		case cmd := <-r.in.ch:
			r.handle(cmd)
		case now := <-ticker.C:
			r.tick(now)
		case now := <-presTimer.C:
			r.peers.flush(now)
		case <-r.results.wake:
			results = r.results.take(results)
			r.released(results, time.Now())
		case <-r.lease.answers.wake:
			answers = r.lease.answers.take(answers)
			for _, a := range answers {
				r.onLease(a)
			}
		case <-r.rosters.wake:
			rosters = r.rosters.take(rosters)
			for _, list := range rosters {
				r.peers.reconcile(list)
			}
		case <-r.idle.C:
			if len(r.subs) == 0 && r.seq.pending() == 0 {
				if r.h.release(r) {
					return
				}
				empty = false // a sender is on its way in: re-arm below
			}
		case <-stopping:
			stopping = nil // drain: keep going until nothing is pending
		}
		if d := r.seq.hist.bytes - r.memReported; d != 0 {
			r.h.metrics.historyBytes.Add(int64(d))
			r.memReported = r.seq.hist.bytes
			r.memPeak = max(r.memPeak, r.seq.hist.bytes+r.seq.pendingBytes+r.seq.specLen)
		}
		if stopping == nil && r.seq.pending() == 0 {
			return
		}
		// Arm the idle timer when the room becomes empty, not on every
		// pass: bus events and the 250ms tick would otherwise postpone the
		// unload forever.
		if now := len(r.subs) == 0 && r.seq.pending() == 0; now != empty {
			empty = now
			if empty {
				r.idle.Reset(r.h.cfg.IdleTimeout)
			}
		}
	}
}

// fromBus returns the bus's callback for a document's channel, run on
// the bus's dispatcher goroutine: it decodes and queues, never blocks.
// Messages starting with ownPrefix are this process's own publications.
func fromBus(in *inbox, ownPrefix []byte, log *zerolog.Logger) func([]byte) {
	return func(msg []byte) {
		switch {
		case msg == nil:
			in.busIn(nil)
		case bytes.HasPrefix(msg, ownPrefix):
		default:
			m, err := decodeBusMsg(msg)
			if err != nil {
				log.Warn().Err(err).Msg("bad bus message")
				in.busIn(nil) // an undecodable message becomes a resync
				return
			}
			in.busIn(&m)
		}
	}
}

// exit waits for the room's lease question, then gives the lease up so
// another process can take the document at once.
func (r *room) exit() {
	r.h.metrics.historyBytes.Add(-int64(r.memReported))
	// A question still in flight may have taken the lease: learn it, so
	// that it is released now rather than left to expire.
	for _, a := range r.lease.wait() {
		r.own.answer(a.holder, a.err, a.sent, time.Now())
	}
	if !r.h.solo && r.own.role == owning {
		if err := r.lease.release(); err != nil {
			r.log.Debug().Err(err).Msg("release lease")
		}
		r.own.role = acquiring
	}
	if r.memPeak >= bigRoom {
		r.h.mem.release()
	}
	r.out.refuseAll(r.fol.takeWaiting(), "document unloaded; retry")
}

// handle dispatches one command.
func (r *room) handle(cmd command) {
	c := cmd.from.c
	switch cmd.kind {
	case cmdOpen:
		r.open(cmd.from, cmd.req)
	case cmdOp:
		_, open := r.subs[c]
		var err *protocol.Error
		switch {
		case !open:
			err = refuse(protocol.CodeNotOpen, r.doc, cmd.req.ID, "document is not open on this connection; send open first")
		case r.h.closing.Load():
			err = unavailable(r.doc, cmd.req.ID, "server shutting down; retry on reconnect")
		default:
			err = r.place(cmd.from, cmd.req)
		}
		if err != nil {
			r.h.metrics.opsRefused.Add(1)
			c.sendError(err)
		}
	case cmdLeave:
		delete(r.subs, c)
		r.peers.leave(c)
	case cmdPresence:
		if _, open := r.subs[c]; !open {
			c.sendError(refuse(protocol.CodeNotOpen, r.doc, "", "document is not open on this connection; send open first"))
		} else if err := r.peers.set(cmd.from, cmd.req.Peer, r.seq.checkSelection, time.Now()); err != nil {
			c.sendError(err)
		}
	case cmdBus:
		r.onBus(cmd.bus)
	}
}
