package hub

import (
	"context"
	"time"
)

// claim asks for the document's lease: this process becomes the owner if
// nobody holds it. Without an answer (the coordination store is down) the
// room keeps its role: an owner goes on sequencing, since no other process
// can take the lease either, and the log's guards catch any overlap.
func (r *room) claim() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	holder, err := r.h.leases.Acquire(ctx, r.doc, r.h.id)
	r.claimed = time.Now()
	if err != nil {
		r.log.Debug().Err(err).Msg("lease unavailable")
		if !r.owner {
			r.holder = ""
		}
		return
	}
	r.holder = holder
	switch {
	case holder == r.h.id && !r.owner:
		r.takeOver()
	case holder != r.h.id && r.owner:
		r.log.Warn().Str("holder", holder).Msg("lost the document's lease; following")
		r.owner = false
		if r.pending() > 0 {
			r.broken = true // the log refuses what is in flight; reload then
		}
	}
}

// release gives the lease up when the room unloads, so another process can
// take the document at once rather than after the lease's TTL.
func (r *room) releaseLease() {
	if !r.owner {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := r.h.leases.Release(ctx, r.doc, r.h.id); err != nil {
		r.log.Debug().Err(err).Msg("release lease")
	}
	r.owner = false
}

// tick is the room's periodic work: renew the lease (owner) or check the
// position against the log and resend stale forwards (follower). The
// position check is what finds a lost *last* event, which no later event
// would reveal as a gap.
func (r *room) tick(now time.Time) {
	if !r.loaded {
		return
	}
	r.presenceTick(now)
	if r.broken {
		r.maybeReload() // retried each tick until the store answers
		return
	}
	if r.owner {
		if now.Sub(r.renewed) >= r.h.leases.TTL()/3 {
			r.renewed = now
			r.claim()
		}
		return
	}
	lost := r.lostBus.Swap(false)
	if lost || now.Sub(r.heard) >= r.h.cfg.PositionCheck {
		r.heard = now
		r.catchUpFromStore()
	}
	if r.holder == "" || r.staleForwards(now) {
		r.claim()
	}
	r.retryForwards(now)
}

func (r *room) staleForwards(now time.Time) bool {
	for _, f := range r.fwd {
		if now.Sub(f.sent) >= r.h.cfg.ForwardRetry {
			return true
		}
	}
	return false
}
