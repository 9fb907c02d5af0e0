package hub

import (
	"context"
	"time"

	"github.com/collabedit/collab/protocol"
)

// waitingOp is an op that arrived while no owner was known: it is
// sequenced, forwarded or refused when the lease store answers.
type waitingOp struct {
	o   origin
	req protocol.Request
	at  time.Time
}

func (w waitingOp) refuse(r *room, msg string) {
	r.h.metrics.opsRefused.Add(1)
	r.replyError(w.o, unavailable(r.doc, w.req.ID, msg))
}

// maxWaiting bounds the ops held while no owner is known: a document's
// clients make a few per second each, and the store answers within a
// tick, so 1,024 is only reached when the store is unreachable.
const maxWaiting = 1024

// hold keeps an op until the lease store says who sequences it.
func (r *room) hold(o origin, req protocol.Request, now time.Time) *protocol.Error {
	if len(r.waiting) >= maxWaiting {
		return unavailable(r.doc, req.ID, "no owner is known for this document (coordination store unreachable); retry")
	}
	r.waiting = append(r.waiting, waitingOp{o: o, req: req, at: now})
	r.askLease(now)
	return nil
}

// askLease asks the lease store, on a goroutine of the room's, who holds
// the document (taking the lease if it is free); the answer comes back
// through r.leases. At most one question is in flight, so a slow or
// paused Redis never blocks the room nor piles up calls.
func (r *room) askLease(now time.Time) {
	if r.h.solo || r.own.asking {
		return
	}
	r.own.ask(now)
	r.bg.Add(1)
	go func() {
		defer r.bg.Done()
		r.leases.put(r.acquire(now))
	}()
}

// acquire asks the lease store who holds the document, taking the lease
// if it is free. It may run on any goroutine: it touches no room state.
func (r *room) acquire(sent time.Time) leaseAnswer {
	ctx, cancel := context.WithTimeout(context.Background(), r.h.leaseTimeout())
	defer cancel()
	holder, err := r.h.leases.Acquire(ctx, r.doc, r.h.id)
	return leaseAnswer{holder: holder, err: err, sent: sent}
}

// claimNow asks the lease store once, inline, before the room serves its
// first client: the process that loads a document for its client takes
// the lease if nobody holds it, so that client's first ops are not held
// or forwarded, and the first opener of a document owns it. It costs the
// first open one round trip to Redis (under a millisecond), at most a
// third of the TTL when Redis does not answer.
func (r *room) claimNow() {
	if r.h.solo {
		return
	}
	now := time.Now()
	r.own.ask(now)
	r.onLease(r.acquire(now))
}

// onLease applies the lease store's answer.
func (r *room) onLease(a leaseAnswer) {
	now := time.Now()
	if a.err != nil {
		r.log.Debug().Err(a.err).Str("role", r.own.role.String()).Msg("lease store unavailable")
	}
	r.transitioned(r.own.answer(a.holder, a.err, a.sent, now))
	r.serveWaiting(a.err != nil, now)
}

// transitioned acts on a change of the room's role.
func (r *room) transitioned(t transition) {
	if t == unchanged || t == renewed {
		return
	}
	r.h.metrics.transition(t)
	ev := r.log.Info()
	if t == deposed || t == lapsed || t == lost {
		ev = r.log.Warn()
	}
	ev.Str("transition", t.String()).Str("holder", r.own.holder).Int64("version", r.version).Msg("document ownership changed")
	switch t {
	case tookOver:
		r.takeOver()
	case followed:
		r.resendForwards()
	}
}

// takeOver makes this process the sequencer: catch up from the log, so
// that no op is sequenced on a stale head, then sequence the ops that
// were waiting for the old owner (their ids make that safe if the old
// owner committed them after all).
func (r *room) takeOver() {
	r.catchUpAll()
	pending := r.fwd
	r.fwd = make(map[string]*forward)
	for _, f := range pending {
		if _, ok := r.subs[f.c]; !ok {
			continue
		}
		o := r.local(f.c)
		o.at = f.at
		if err := r.sequence(o, f.req); err != nil {
			r.h.metrics.opsRefused.Add(1)
			f.c.sendError(err)
		}
	}
}

// serveWaiting places the ops that waited for an owner, once one is
// known; if the store could not be reached they are refused instead, and
// the client retries.
func (r *room) serveWaiting(storeDown bool, now time.Time) {
	if len(r.waiting) == 0 {
		return
	}
	if r.own.role == acquiring {
		if storeDown {
			r.refuseWaiting("no owner is known for this document (coordination store unreachable); retry")
		} else {
			r.askLease(now) // answered too late to use: ask again
		}
		return
	}
	waiting := r.waiting
	r.waiting = nil
	for _, w := range waiting {
		if err := r.place(w.o, w.req); err != nil {
			r.h.metrics.opsRefused.Add(1)
			r.replyError(w.o, err)
		}
	}
}

func (r *room) refuseWaiting(msg string) {
	for _, w := range r.waiting {
		w.refuse(r, msg)
	}
	r.waiting = nil
}

// releaseLease gives the lease up when the room unloads, so another
// process can take the document at once rather than after the lease's TTL.
func (r *room) releaseLease() {
	if r.h.solo || r.own.role != owning {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.h.leaseTimeout())
	defer cancel()
	if err := r.h.leases.Release(ctx, r.doc, r.h.id); err != nil {
		r.log.Debug().Err(err).Msg("release lease")
	}
	r.own.role = acquiring
}

// tick is the room's periodic work: commit and lease deadlines, asking
// the lease store when due, and for a follower the position check (which
// finds a lost *last* event, one no later event would reveal as a gap)
// and resending forwards.
func (r *room) tick(now time.Time) {
	if !r.loaded {
		return
	}
	r.presenceTick(now)
	r.checkCommitTimeout(now)
	if len(r.waiting) > 0 && now.Sub(r.waiting[0].at) > r.h.cfg.CommitTimeout {
		r.refuseWaiting("no owner is known for this document yet; retry")
	}
	r.transitioned(r.own.expire(now))
	if r.own.due(now, r.h.cfg.ClusterTick) {
		r.askLease(now)
	}
	if r.broken {
		r.maybeReload() // retried each tick until the store answers
		return
	}
	lost := r.lostBus.Swap(false)
	if r.own.role == owning {
		if lost {
			r.catchUpAll() // another process wrote while we had ops in flight
		}
		return
	}
	if lost || now.Sub(r.heard) >= r.h.cfg.PositionCheck {
		r.heard = now
		r.catchUpAll()
	}
	r.retryForwards(now)
}
