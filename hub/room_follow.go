package hub

import (
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/protocol"
)

// forward is an op a follower sent to the document's owner and has not yet
// seen committed. It is resent with the same id until it is: the id makes
// resending safe, and pub/sub may lose the forward or the owner may die.
type forward struct {
	c    *conn
	req  protocol.Request
	sent time.Time // zero: resend at the next tick
	at   time.Time // when the client's op was read from its socket
}

// catchUpChunk is how many events one read of the log brings in: enough to
// fill a gap of a hot document in one read, few enough that a run of
// megabyte pastes does not pull a gigabyte into memory at once.
const catchUpChunk = 256

// busIn hands a bus message to the room without ever blocking the bus's
// dispatcher (a room unsubscribing waits for it). When the inbox is full
// the message is dropped and the next tick reads the log instead.
func (r *room) busIn(m *busMsg) {
	select {
	case r.inbox <- command{kind: cmdBus, bus: m}:
	default:
		r.lostBus.Store(true)
	}
}

// onBus handles a message from the document's channel or, for forwards and
// replies, from this process's channel. nil means messages may have been
// lost: check the log.
func (r *room) onBus(m *busMsg) {
	if !r.loaded {
		return
	}
	switch {
	case m == nil:
		r.catchUpAll()
	case m.Kind == msgEvent:
		r.onEvent(m)
	case m.Kind == msgForward:
		r.onForward(m)
	case m.Kind == msgReply:
		r.onReply(m)
	case m.Kind == msgAck:
		r.onAck(m)
	case m.Kind == msgNotOwner:
		r.onNotOwner(m)
	case m.Kind == msgPeer || m.Kind == msgLeft:
		r.onPeerMsg(m)
	}
}

// onEvent applies an event another process committed. Committed events
// are the log's truth whatever this room's role, so they are applied in
// order whenever nothing of ours is in flight; when something is, the
// results decide, and the log is read once they are in.
func (r *room) onEvent(m *busMsg) {
	if m.Owner == r.h.id {
		return // our own publication
	}
	now := time.Now()
	r.heard = now
	if r.own.role == owning && m.Version >= r.version {
		// Another process sequenced this document: one of us holds a
		// stale view of the lease. Only the store can say which.
		r.log.Warn().Str("other", m.Owner).Int64("version", m.Version).Msg("document sequenced by another process; checking the lease")
		r.askLease(now)
	}
	if r.pending() > 0 || r.broken {
		r.lostBus.Store(true)
		return
	}
	switch {
	case m.Version < r.version:
		return // already applied (a duplicate or a reordering)
	case m.Version > r.version:
		r.catchUpAll()
		return
	}
	var op document.Op
	if err := op.UnmarshalJSON(m.Op); err != nil {
		r.log.Error().Err(err).Int64("version", m.Version).Msg("event op does not decode")
		r.catchUpAll()
		return
	}
	var at time.Time // zero from a process that does not send it
	if m.Time != 0 {
		at = time.Unix(0, m.Time)
	}
	r.applyEvent(m.Version, m.ID, m.Author, op, at)
}

// applyEvent applies a committed event sequenced by another process:
// broadcast to local subscribers, ack if it is one of our forwarded ops.
func (r *room) applyEvent(v int64, id, author string, op document.Op, at time.Time) {
	lenBefore := r.text.Len()
	if err := r.text.Apply(op); err != nil {
		r.log.Error().Err(err).Int64("version", v).Msg("event does not apply; reloading")
		r.broken = true
		return
	}
	e := entry{op: op, id: id, author: author, lenBefore: lenBefore}
	e.frame = protocol.AppendOp(nil, r.doc, v, id, author, op)
	var from *conn
	if f := r.fwd[id]; f != nil {
		from = f.c
		delete(r.fwd, id)
		r.h.metrics.ack.observe(time.Since(f.at))
	}
	if !at.IsZero() {
		r.h.metrics.lag.observe(time.Since(at))
	}
	r.hist.push(e)
	r.hist.committed(r.hist.at(v))
	r.ids[id] = v
	r.version++
	r.next, r.specLen = r.version, r.text.Len()
	for c := range r.subs {
		if c != from {
			c.send(e.frame)
		}
	}
	if from != nil {
		from.send(protocol.AppendAck(nil, r.doc, id, v))
	}
	r.hist.trim(r.h.cfg.HistoryLen, r.h.cfg.HistoryBytes, r.version, r.forget)
}

// catchUpAll reads and applies, in order, every event of the log this
// room has not applied: the recovery for lost, reordered or late pub/sub
// messages, and what a new owner does before it sequences anything.
func (r *room) catchUpAll() {
	for r.catchUpFromStore() == catchUpChunk {
	}
}

// catchUpFromStore applies up to catchUpChunk events from the log and
// returns how many it read. It does nothing while ops of this room are in
// flight: their results come first.
func (r *room) catchUpFromStore() int {
	if r.pending() > 0 || r.broken || !r.loaded {
		return 0
	}
	ctx, cancel := r.readContext()
	defer cancel()
	events, err := r.h.store.Events(ctx, r.doc, r.version, catchUpChunk)
	if err != nil {
		r.log.Warn().Err(err).Msg("catch up from log")
		return 0
	}
	if len(events) > 0 {
		r.h.metrics.gapsFilled.Add(1)
		r.log.Debug().Int64("from", r.version).Int("events", len(events)).Msg("filled from log")
	}
	for _, ev := range events {
		if ev.Version != r.version || r.broken {
			return 0
		}
		var op document.Op
		if err := op.UnmarshalJSON(ev.Op); err != nil {
			r.log.Error().Err(err).Int64("version", ev.Version).Msg("stored op does not decode")
			return 0
		}
		r.applyEvent(ev.Version, ev.OpID, ev.Author, op, ev.Time)
	}
	return len(events)
}

// forwardOp sends a local client's op to the owner's process, unless this
// process has already seen it committed.
func (r *room) forwardOp(o origin, req protocol.Request) *protocol.Error {
	if v, ok := r.ids[req.ID]; ok && v < r.version {
		o.c.send(protocol.AppendAck(nil, r.doc, req.ID, v))
		return nil
	}
	f := &forward{c: o.c, req: req, sent: time.Now(), at: o.at}
	r.fwd[req.ID] = f
	r.sendForward(f)
	return nil
}

func (r *room) sendForward(f *forward) {
	r.h.metrics.forwarded.Add(1)
	m := busMsg{Kind: msgForward, Doc: r.doc, Version: f.req.Version, ID: f.req.ID,
		Op: f.req.Op.AppendJSON(nil), Proc: r.h.id, Conn: f.c.id}
	r.h.pub.send(r.doc, procChannel(r.own.holder), m)
	r.log.Debug().Str("op", f.req.ID).Str("conn", f.c.id).Str("owner", r.own.holder).Msg("op forwarded")
}

// onForward handles another process's client op, sent here because the
// sender believes this process owns the document.
func (r *room) onForward(m *busMsg) {
	o := origin{proc: m.Proc, conn: m.Conn}
	req := protocol.Request{Type: protocol.TypeOp, Doc: r.doc, Version: m.Version, HasVersion: true, ID: m.ID}
	if err := req.Op.UnmarshalJSON(m.Op); err != nil {
		r.replyError(o, refuse(protocol.CodeInvalidOp, r.doc, m.ID, err.Error()))
		return
	}
	if err := r.place(o, req); err != nil {
		r.h.metrics.opsRefused.Add(1)
		r.replyError(o, err)
	}
}

// notOwner tells the origin of a forwarded op that this process does not
// sequence the document: the origin keeps the op, asks the lease store
// who does, and forwards it there. The client never sees this.
func (r *room) notOwner(o origin, id string) {
	r.h.pub.send(r.doc, procChannel(o.proc), busMsg{Kind: msgNotOwner, Doc: r.doc, ID: id, Proc: o.proc, Conn: o.conn})
}

// onReply delivers the owner's refusal of one of our forwarded ops.
func (r *room) onReply(m *busMsg) {
	f := r.fwd[m.ID]
	if f == nil {
		return
	}
	delete(r.fwd, m.ID)
	f.c.send([]byte(m.Frame))
}

// onAck handles the owner's ack of one of our forwarded ops (a resend of
// an op it had committed). The client gets it once everything before it
// has been delivered here (protocol §6.3); a later one is acked by its
// event instead.
func (r *room) onAck(m *busMsg) {
	f := r.fwd[m.ID]
	if f == nil || m.Version >= r.version {
		return
	}
	delete(r.fwd, m.ID)
	f.c.send(protocol.AppendAck(nil, r.doc, m.ID, m.Version))
	r.h.metrics.ack.observe(time.Since(f.at))
}

// onNotOwner: the process we forwarded to does not sequence the document.
// Ask who does; the forward goes out again at the next tick.
func (r *room) onNotOwner(m *busMsg) {
	if f := r.fwd[m.ID]; f != nil {
		f.sent = time.Time{}
		r.askLease(time.Now())
	}
}

// retryForwards resends forwards that have waited too long.
func (r *room) retryForwards(now time.Time) {
	if r.own.role != following {
		return
	}
	for id, f := range r.fwd {
		if now.Sub(f.sent) < r.h.cfg.ForwardRetry {
			continue
		}
		if _, ok := r.subs[f.c]; !ok {
			delete(r.fwd, id) // its client left; it resends on reconnect
			continue
		}
		f.sent = now
		r.sendForward(f)
	}
}

// resendForwards sends every forward again at once, to a new holder.
func (r *room) resendForwards() {
	for _, f := range r.fwd {
		f.sent = time.Time{}
	}
	r.retryForwards(time.Now())
}
