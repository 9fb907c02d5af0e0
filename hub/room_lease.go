package hub

import "time"

// onLease applies the lease store's answer, then places the ops that
// waited for an owner, or refuses them if the store could not be reached
// (the client retries).
func (r *room) onLease(a leaseAnswer) {
	now := time.Now()
	if a.err != nil {
		r.log.Debug().Err(a.err).Str("role", r.own.role.String()).Msg("lease store unavailable")
	}
	r.transitioned(r.own.answer(a.holder, a.err, a.sent, now))
	if _, any := r.fol.waitedSince(); !any {
		return
	}
	if r.own.role == acquiring {
		if a.err == nil {
			r.lease.ask(&r.own, now) // answered too late to use: ask again
			return
		}
		r.out.refuseAll(r.fol.takeWaiting(), "no owner is known for this document (coordination store unreachable); retry")
		return
	}
	for _, w := range r.fol.takeWaiting() {
		if err := r.place(w.o, w.req); err != nil {
			r.n.metrics.opsRefused.Add(1)
			r.out.refuse(w.o, err)
		}
	}
}

// transitioned acts on a change of the room's role (the table in doc.go):
// a new owner catches up from the log, so that no op is sequenced on a
// stale head, then sequences the ops it had forwarded to the old owner
// (their ids make that safe if the old owner committed them after all);
// a follower of a new holder resends its forwards there.
func (r *room) transitioned(t transition) {
	noteTransition(&r.log, &r.n.metrics, t, r.own.holder, r.seq.version)
	switch t {
	case tookOver:
		r.catchUp()
		for _, f := range r.fol.takeForwards() {
			if _, ok := r.subs[f.o.c]; !ok {
				continue
			}
			if err := r.sequence(f.o, f.req); err != nil {
				r.n.metrics.opsRefused.Add(1)
				f.o.c.sendError(err)
			}
		}
	case followed:
		r.fol.resendAll()
		r.out.forwardAll(r.own.holder, r.fol.due(time.Now(), r.n.cfg.ForwardRetry, r.subs.has)...)
	}
}

// tick is the room's periodic work: presence refresh, commit and lease
// deadlines, asking the lease store when due, and for a follower the
// position check (which finds a lost *last* event, one no later event
// would reveal as a gap) and resending forwards.
func (r *room) tick(now time.Time) {
	if !r.seq.loaded {
		return
	}
	if r.peers.refresh(now, r.n.cfg.PresenceTTL) {
		r.out.listPeers(r.rosters)
	}
	r.released(nil, now) // the commit deadline; a failed commit drained: reload, retried each tick
	if since, any := r.fol.waitedSince(); any && now.Sub(since) > r.n.cfg.CommitTimeout {
		r.out.refuseAll(r.fol.takeWaiting(), "no owner is known for this document yet; retry")
	}
	r.transitioned(r.own.expire(now))
	if r.own.due(now, r.n.cfg.ClusterTick) {
		r.lease.ask(&r.own, now)
	}
	if r.seq.broken {
		return
	}
	lost := r.in.lostBus.Swap(false)
	if r.own.role == owning {
		if lost {
			r.catchUp() // another process wrote while we had ops in flight
		}
		return
	}
	if lost || now.Sub(r.fol.heard) >= r.n.cfg.PositionCheck {
		r.fol.heard = now
		r.catchUp()
	}
	if r.own.role == following {
		r.out.forwardAll(r.own.holder, r.fol.due(now, r.n.cfg.ForwardRetry, r.subs.has)...)
	}
}
