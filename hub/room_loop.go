package hub

import (
	"time"

	"github.com/collabedit/collab/protocol"
)

// run is the room's goroutine: subscribe, load, then serve commands,
// commit results, lease answers, rosters and timers until the document
// unloads or the hub closes and nothing is pending.
func (r *room) run() {
	defer close(r.in.done)
	r.n.metrics.rooms.Add(1)
	defer r.n.metrics.rooms.Add(-1)
	r.idle = time.NewTimer(r.n.cfg.IdleTimeout)
	defer r.idle.Stop()
	// Subscribe, then load: an event committed in between is either in
	// what we load or arrives after it, never lost.
	if !r.n.solo {
		if cancel, err := r.n.bus.Subscribe(r.n.chans.doc(r.doc), fromBus(r.in, r.n.ownEvents, &r.log)); err != nil {
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
	ticker := time.NewTicker(r.n.cfg.ClusterTick)
	defer ticker.Stop()
	stopping := r.n.ctx.Done()
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
				if r.n.unload(r.doc, r.in) {
					return
				}
				empty = false // a sender is on its way in: re-arm below
			}
		case <-stopping:
			stopping = nil // drain: keep going until nothing is pending
		}
		if d := r.seq.hist.bytes - r.memReported; d != 0 {
			r.n.metrics.historyBytes.Add(int64(d))
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
				r.idle.Reset(r.n.cfg.IdleTimeout)
			}
		}
	}
}

// exit waits for the room's lease question, then gives the lease up so
// another process can take the document at once.
func (r *room) exit() {
	r.n.metrics.historyBytes.Add(-int64(r.memReported))
	// A question still in flight may have taken the lease: learn it, so
	// that it is released now rather than left to expire.
	for _, a := range r.lease.wait() {
		r.own.answer(a.holder, a.err, a.sent, time.Now())
	}
	if !r.n.solo && r.own.role == owning {
		if err := r.lease.release(); err != nil {
			r.log.Debug().Err(err).Msg("release lease")
		}
		r.own.role = acquiring
	}
	if r.memPeak >= bigRoom {
		r.n.mem.release()
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
		case !open && !r.seq.deleted: // a deleted document opens for nobody; place answers resends
			err = refuse(protocol.CodeNotOpen, r.doc, cmd.req.ID, "document is not open on this connection; send open first")
		case r.n.closing.Load():
			err = unavailable(r.doc, cmd.req.ID, "server shutting down; retry on reconnect")
		default:
			err = r.place(cmd.from, cmd.req)
		}
		if err != nil {
			r.n.metrics.opsRefused.Add(1)
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
