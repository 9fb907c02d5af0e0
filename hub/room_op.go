package hub

import (
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/protocol"
)

// place sends an op where the document's ownership says: sequenced here,
// forwarded to the owner, or held until an owner is known. An error
// returned is the refusal to send now; otherwise the origin is answered
// later.
func (r *room) place(o origin, req protocol.Request) *protocol.Error {
	now := time.Now()
	noteTransition(&r.log, &r.n.metrics, r.own.expire(now), r.own.holder, r.seq.version) // lapsed: nothing to do but hold
	if r.seq.deleted {
		return r.afterDelete(o, req.ID)
	}
	switch r.own.role {
	case owning:
		return r.sequence(o, req)
	case following:
		if o.c == nil {
			r.out.notOwner(o, req.ID) // forwarded to us by mistake
			return nil
		}
		if v, ok := r.seq.ids[req.ID]; ok && v < r.seq.version {
			o.c.send(protocol.AppendAck(nil, r.doc, req.ID, v)) // seen committed already
			return nil
		}
		r.out.forwardAll(r.own.holder, r.fol.forward(o, req, now))
		r.log.Debug().Str("op", req.ID).Str("conn", o.connID).Str("owner", r.own.holder).Msg("op forwarded")
		return nil
	}
	if !r.fol.hold(o, req, now) {
		return unavailable(r.doc, req.ID, "no owner is known for this document (coordination store unreachable); retry")
	}
	r.lease.ask(&r.own, now)
	return nil
}

// sequence has the sequencer admit an op in the owner and hands it to the
// store. An op whose base is older than the history window needs two
// reads of the log: whether it is a resend of an op applied long ago (then
// acked with its version), else the ops to transform it over.
func (r *room) sequence(o origin, req protocol.Request) *protocol.Error {
	if r.seq.broken || !r.seq.loaded {
		if err := r.reload(); err != nil {
			return unavailable(r.doc, req.ID, "document is recovering from a storage error; retry")
		}
	}
	if r.seq.hist.head() == 0 && req.Lifecycle == nil {
		// The first op of a document with no events creates it.
		if err := r.n.allowCreate(o, r.doc, req.ID); err != nil {
			return err
		}
	}
	a := r.seq.admit(o, req, time.Now())
	if a.kind == readLog {
		ctx, cancel := r.n.ioContext(r.n.cfg.ReadTimeout)
		defer cancel()
		v, found, err := r.n.store.FindOp(ctx, r.doc, req.ID)
		switch {
		case err != nil:
			r.log.Warn().Err(err).Str("op", req.ID).Msg("find op")
			return unavailable(r.doc, req.ID, "storage unavailable; retry")
		case found:
			r.out.ack(o, req.ID, v)
			return nil
		case a.err != nil:
			return a.err
		}
		n := a.version - req.Version
		older, err := r.n.store.Events(ctx, r.doc, req.Version, int(n))
		if err != nil || int64(len(older)) != n {
			r.log.Warn().Err(err).Int64("from", req.Version).Msg("read ops to transform against")
			return unavailable(r.doc, req.ID, "storage unavailable; retry")
		}
		a = r.seq.admitOld(o, req, older, time.Now())
	}
	switch a.kind {
	case admitted:
		r.log.Debug().Str("op", req.ID).Int64("version", a.version).Str("conn", o.connID).Str("origin", o.proc).Msg("op sequenced")
		r.n.store.AppendAsync(a.ev, r.onCommit)
	case ackNow:
		r.out.ack(o, req.ID, a.version)
	case rejected:
		return a.err
	case failed:
		return internalError(&r.log, r.doc, req.ID, a.bug)
	}
	return nil
}

// released takes the store's answers, has the sequencer release what it
// can in version order (and what is overdue at now), answers for each
// op, and reloads once a failed commit has drained: a committed op goes
// to every subscriber, to the other processes and, as an ack, to its
// author; a refused or overdue one is answered unavailable.
func (r *room) released(results []commitResult, now time.Time) {
	for _, res := range results {
		at, err := r.seq.settle(res.version, res.err)
		if err != nil {
			msg := errNoPending.Error() // the old room's two messages, for alerts that match them
			if errors.Is(err, errSecondResult) {
				msg = errSecondResult.Error()
			}
			r.log.Error().Int64("version", res.version).Int64("next", r.seq.next).Msg(msg)
			continue
		}
		r.n.metrics.commit.observe(time.Since(at))
	}
	outs := r.seq.release(now, r.outs[:0])
	for i := range outs {
		o := &outs[i]
		switch o.kind {
		case outCommitted:
			r.n.metrics.opsApplied.Add(1)
			r.subs.send(o.frame, o.from.c)
			r.out.event(o)
			if o.from.c != nil {
				// Observed before the ack is queued: a client that has its
				// ack finds it counted (metrics TestLatencyAndRefusals).
				r.n.metrics.ack.observe(time.Since(o.from.at))
				o.from.c.send(protocol.AppendAck(nil, r.doc, o.id, o.version))
			}
			for _, w := range o.waiters {
				r.out.ack(w, o.id, o.version)
			}
			if o.life != nil && o.life.Kind == protocol.LifecycleDelete {
				defer r.dropDeleted() // after the loop: release still walks the history
			}
			r.log.Debug().Str("op", o.id).Int64("version", o.version).Str("conn", o.from.connID).Int("subscribers", len(r.subs)).Msg("op committed")
			if o.snapshot != nil {
				r.n.store.PutSnapshotAsync(*o.snapshot)
			}
		case outRefused, outTimedOut:
			r.n.metrics.opsRefused.Add(1)
			msg := fmt.Sprintf("storage did not confirm this op within %v; its outcome is not known yet: resend it with the same id", r.n.cfg.CommitTimeout)
			if o.kind == outRefused {
				r.log.Warn().Err(o.err).Str("op", o.id).Str("conn", o.from.connID).Msg("commit failed")
				msg = commitRefusal(o.err)
			}
			if o.kind == outTimedOut || !o.told {
				for _, to := range append(o.waiters, o.from) {
					r.out.refuse(to, unavailable(r.doc, o.id, msg))
				}
			}
		case outUnapplied:
			r.log.Error().Err(o.err).Str("op", o.id).Msg("committed op does not apply")
		}
	}
	if n := len(outs); n > 0 && outs[n-1].kind == outTimedOut {
		r.log.Warn().Int64("pending", r.seq.pending()).Dur("timeout", r.n.cfg.CommitTimeout).Msg("storage has not confirmed commits; answering unavailable")
	}
	clear(outs)
	r.outs = outs
	if r.seq.needsReload() {
		if err := r.reload(); err != nil {
			r.log.Warn().Err(err).Msg("reload after failed commit")
		}
	}
}

// commitRefusal words a failed commit for the client. Every case means
// nothing was applied, since the op was not stored.
func commitRefusal(err error) string {
	var full *eventlog.DiskFullError
	switch {
	case errors.Is(err, eventlog.ErrConflict), errors.Is(err, eventlog.ErrDuplicate):
		return "the document changed underneath (another server sequenced it); nothing was applied, retry"
	case errors.As(err, &full):
		return "the server's storage is full (" + full.Error() + "); nothing was applied, retry later"
	case errors.Is(err, eventlog.ErrDiskFull):
		return "the server's storage is full; nothing was applied, retry later"
	case errors.Is(err, eventlog.ErrBusy):
		return "the server's storage is busy; nothing was applied, retry"
	}
	return "storage unavailable; nothing was applied, retry"
}

// noteTransition logs and counts a change of a room's role.
func noteTransition(log *zerolog.Logger, m *metrics, t transition, holder string, version int64) {
	if t == unchanged || t == renewed {
		return
	}
	m.transition(t)
	ev := log.Info()
	if t == deposed || t == lapsed || t == lost {
		ev = log.Warn()
	}
	ev.Str("transition", t.String()).Str("holder", holder).Int64("version", version).Msg("document ownership changed")
}
