package hub

import (
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/protocol"
)

// catchUpChunk is how many events one read of the log brings in: enough to
// fill a gap of a hot document in one read, few enough that a run of
// megabyte pastes does not pull a gigabyte into memory at once.
const catchUpChunk = 256

// onBus handles a message from the document's channel or, for forwards and
// their answers, from this process's channel. nil means messages may have
// been lost: check the log.
func (r *room) onBus(m *busMsg) {
	if !r.seq.loaded {
		return
	}
	switch {
	case m == nil:
		r.catchUp()
	case m.Kind == msgEvent:
		r.onEvent(m)
	case m.Kind == msgForward:
		o := origin{proc: m.Proc, connID: m.Conn, author: m.Author, limitKey: m.Key}
		req := protocol.Request{Type: protocol.TypeOp, Doc: r.doc, Version: m.Version, HasVersion: true, ID: m.ID, Lifecycle: m.Life}
		err := req.Op.UnmarshalJSON(m.Op)
		if err != nil {
			r.out.refuse(o, refuse(protocol.CodeInvalidOp, r.doc, m.ID, err.Error()))
		} else if perr := r.place(o, req); perr != nil {
			r.n.metrics.opsRefused.Add(1)
			r.out.refuse(o, perr)
		}
	case m.Kind == msgReply:
		// The owner's refusal of one of our forwarded ops.
		if f := r.fol.answered(m.ID); f != nil {
			f.o.c.send([]byte(m.Frame))
		}
	case m.Kind == msgAck:
		// The owner's ack of a resent forward it had committed. The client
		// gets it once everything before it has been delivered here
		// (protocol §6.3); a later one is acked by its event instead.
		if m.Version < r.seq.version {
			if f := r.fol.answered(m.ID); f != nil {
				f.o.c.send(protocol.AppendAck(nil, r.doc, m.ID, m.Version))
				r.n.metrics.ack.observe(time.Since(f.o.at))
			}
		}
	case m.Kind == msgNotOwner:
		// The process we forwarded to does not sequence the document: ask
		// who does; the forward goes out again at the next tick.
		if r.fol.notOwner(m.ID) {
			r.lease.ask(&r.own, time.Now())
		}
	case (m.Kind == msgPeer || m.Kind == msgLeft) && m.Proc != r.n.id:
		r.peers.remote(m)
	}
}

// onEvent applies an event another process committed. Committed events
// are the log's truth whatever this room's role, so they are applied in
// order whenever nothing of ours is in flight; when something is, the
// results decide, and the log is read once they are in.
func (r *room) onEvent(m *busMsg) {
	if m.Owner == r.n.id {
		return // our own publication
	}
	now := time.Now()
	r.fol.heard = now
	if r.own.role == owning && m.Version >= r.seq.version {
		// Another process sequenced this document: one of us holds a
		// stale view of the lease. Only the store can say which.
		r.log.Warn().Str("other", m.Owner).Int64("version", m.Version).Msg("document sequenced by another process; checking the lease")
		r.lease.ask(&r.own, now)
	}
	if r.seq.pending() > 0 || r.seq.broken {
		r.in.lostBus.Store(true)
		return
	}
	switch {
	case m.Version < r.seq.version:
		return // already applied (a duplicate or a reordering)
	case m.Version > r.seq.version:
		r.catchUp()
		return
	}
	var op document.Op
	if err := op.UnmarshalJSON(m.Op); err != nil {
		r.log.Error().Err(err).Int64("version", m.Version).Msg("event op does not decode")
		r.catchUp()
		return
	}
	r.applyEvent(m.Version, m.ID, m.Author, op, m.Time, m.Life)
}

// applyEvent applies one committed event sequenced elsewhere (heard on
// the bus or read from the log): broadcast to local subscribers, ack if it
// is one of our forwarded ops. sequenced is when its owner sequenced it,
// unix nanoseconds; 0 if unknown.
func (r *room) applyEvent(v int64, id, author string, op document.Op, sequenced int64, life *protocol.Lifecycle) {
	frame, err := r.seq.apply(v, id, author, op, life)
	if err != nil {
		r.log.Error().Err(err).Msg("event does not apply; reloading")
		return
	}
	f := r.fol.answered(id)
	if sequenced != 0 {
		r.n.metrics.lag.observe(time.Since(time.Unix(0, sequenced)))
	}
	if f == nil {
		r.subs.send(frame, nil)
	} else {
		r.n.metrics.ack.observe(time.Since(f.o.at))
		r.subs.send(frame, f.o.c)
		f.o.c.send(protocol.AppendAck(nil, r.doc, id, v))
	}
	if r.seq.deleted {
		r.dropDeleted()
	}
}

// catchUp reads and applies, in order, every event of the log this room
// has not applied: the recovery for lost, reordered or late pub/sub
// messages, and what a new owner does before it sequences anything. It
// does nothing while ops of this room are in flight: their results come
// first.
func (r *room) catchUp() {
	for {
		if r.seq.pending() > 0 || r.seq.broken || !r.seq.loaded {
			return
		}
		ctx, cancel := r.n.ioContext(r.n.cfg.ReadTimeout)
		from := r.seq.version
		events, err := r.n.store.Events(ctx, r.doc, from, catchUpChunk)
		cancel()
		if err != nil {
			r.log.Warn().Err(err).Msg("catch up from log")
			return
		}
		if len(events) > 0 {
			r.n.metrics.gapsFilled.Add(1)
			r.log.Debug().Int64("from", from).Int("events", len(events)).Msg("filled from log")
		}
		for _, ev := range events {
			if ev.Version != r.seq.version || r.seq.broken {
				return
			}
			var op document.Op
			if err := op.UnmarshalJSON(ev.Op); err != nil {
				r.log.Error().Err(err).Int64("version", ev.Version).Msg("stored op does not decode")
				return
			}
			var sequenced int64
			if !ev.Time.IsZero() {
				sequenced = ev.Time.UnixNano()
			}
			if ev.Kind == eventlog.Purge {
				r.seq.deleted = true // a purge replaced the delete and every event before it
				r.dropDeleted()
				return
			}
			r.applyEvent(ev.Version, ev.OpID, ev.Author, op, sequenced, lifecycleOf(ev))
		}
		if len(events) < catchUpChunk {
			return
		}
	}
}
