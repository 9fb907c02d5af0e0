package hub

import (
	"context"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/protocol"
)

// forward is an op a follower sent to the document's owner and has not yet
// seen committed. It is resent with the same id until it is: the id makes
// resending safe, and pub/sub may lose the forward or the owner may die.
type forward struct {
	c    *conn
	req  protocol.Request
	sent time.Time
}

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
		r.catchUpFromStore()
	case m.Kind == msgEvent:
		r.onEvent(m)
	case m.Kind == msgForward:
		r.onForward(m)
	case m.Kind == msgReply:
		r.onReply(m)
	case m.Kind == msgPeer || m.Kind == msgLeft:
		r.onPeerMsg(m)
	}
}

func (r *room) onEvent(m *busMsg) {
	if m.Owner == r.h.id {
		return // our own publication
	}
	r.heard = time.Now()
	if r.owner && m.Version < r.hist.head() {
		return // a late event from a previous owner: we have it already
	}
	if r.owner {
		// Someone else sequenced this document: we are no longer its
		// owner. The log's guards refuse whatever we still have in flight;
		// reload once it has failed out.
		r.log.Warn().Str("other", m.Owner).Int64("version", m.Version).Msg("document sequenced elsewhere; following")
		r.owner, r.holder = false, m.Owner
		if r.pending() > 0 {
			r.broken = true
			return
		}
	}
	switch {
	case m.Version < r.version:
		return // already applied (a duplicate or a reordering)
	case m.Version > r.version:
		r.catchUpFromStore()
		return
	}
	var op document.Op
	if err := op.UnmarshalJSON(m.Op); err != nil {
		r.log.Error().Err(err).Int64("version", m.Version).Msg("event op does not decode")
		r.catchUpFromStore()
		return
	}
	r.applyEvent(m.Version, m.ID, m.Author, op)
}

// applyEvent applies a committed event sequenced by another process, in a
// follower: broadcast to local subscribers, ack if it is one of our
// forwarded ops.
func (r *room) applyEvent(v int64, id, author string, op document.Op) {
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
	}
	r.hist.push(e)
	r.ids[id] = v
	r.version++
	r.sent, r.specLen = r.version, r.text.Len()
	for c := range r.subs {
		if c != from {
			c.send(e.frame)
		}
	}
	if from != nil {
		from.send(protocol.AppendAck(nil, r.doc, id, v))
	}
	r.hist.trim(r.h.cfg.HistoryLen, r.version, r.forget)
}

// catchUpFromStore reads the events this follower has not seen from the
// shared log and applies them in order: the recovery for lost, reordered or
// late pub/sub messages.
func (r *room) catchUpFromStore() {
	if r.owner || r.pending() > 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	events, err := r.h.store.Events(ctx, r.doc, r.version, r.h.cfg.MaxCatchUp)
	if err != nil {
		r.log.Warn().Err(err).Msg("catch up from log")
		return
	}
	if len(events) > 0 {
		r.h.metrics.gapsFilled.Add(1)
		r.log.Debug().Int64("from", r.version).Int("events", len(events)).Msg("filled from log")
	}
	for _, ev := range events {
		if ev.Version != r.version {
			return
		}
		var op document.Op
		if err := op.UnmarshalJSON(ev.Op); err != nil {
			r.log.Error().Err(err).Int64("version", ev.Version).Msg("stored op does not decode")
			return
		}
		r.applyEvent(ev.Version, ev.OpID, ev.Author, op)
	}
}

// forwardOp sends a local client's op to the owner's process.
func (r *room) forwardOp(c *conn, req protocol.Request) *protocol.Error {
	if r.holder == "" {
		return unavailable(r.doc, req.ID, "document owner unknown (coordination store unavailable); retry")
	}
	r.fwd[req.ID] = &forward{c: c, req: req, sent: time.Now()}
	r.sendForward(c, req)
	return nil
}

func (r *room) sendForward(c *conn, req protocol.Request) {
	r.h.metrics.forwarded.Add(1)
	m := busMsg{Kind: msgForward, Doc: r.doc, Version: req.Version, ID: req.ID,
		Op: req.Op.AppendJSON(nil), Proc: r.h.id, Conn: c.id}
	r.h.pub.send(r.doc, procChannel(r.holder), m)
	r.log.Debug().Str("op", req.ID).Str("conn", c.id).Str("owner", r.holder).Msg("op forwarded")
}

// onForward handles another process's client op, sent here because this
// process owns the document.
func (r *room) onForward(m *busMsg) {
	o := origin{proc: m.Proc, conn: m.Conn}
	req := protocol.Request{Type: protocol.TypeOp, Doc: r.doc, Version: m.Version, HasVersion: true, ID: m.ID}
	if err := req.Op.UnmarshalJSON(m.Op); err != nil {
		r.replyError(o, refuse(protocol.CodeInvalidOp, r.doc, m.ID, err.Error()))
		return
	}
	if !r.owner {
		r.replyError(o, unavailable(r.doc, m.ID, "ownership of the document moved; retry"))
		return
	}
	if err := r.sequence(o, req); err != nil {
		r.h.metrics.opsRefused.Add(1)
		r.replyError(o, err)
	}
}

// onReply delivers the owner's answer to one of our forwarded ops.
func (r *room) onReply(m *busMsg) {
	f := r.fwd[m.ID]
	if f == nil {
		return
	}
	delete(r.fwd, f.req.ID)
	f.c.send([]byte(m.Frame))
}

// retryForwards resends forwards that have waited too long, after asking
// again who owns the document (taking it over if nobody does).
func (r *room) retryForwards(now time.Time) {
	if len(r.fwd) == 0 || r.owner {
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
		r.sendForward(f.c, f.req)
	}
}

// takeOver makes this process the sequencer: catch up from the log, then
// sequence the ops that were waiting for the old owner.
func (r *room) takeOver() {
	r.catchUpFromStore()
	r.owner = true
	r.log.Info().Int64("version", r.version).Msg("took ownership of document")
	pending := r.fwd
	r.fwd = make(map[string]*forward)
	for _, f := range pending {
		if _, ok := r.subs[f.c]; !ok {
			continue
		}
		if err := r.sequence(r.local(f.c), f.req); err != nil {
			f.c.sendError(err)
		}
	}
}

// storeEvent is the event appended for entry at version v.
func (r *room) storeEvent(v int64, e *entry, payload []byte) eventlog.Event {
	ev := eventlog.Event{Doc: r.doc, Version: v, OpID: e.id, Author: e.author, Time: time.Now(), Op: payload, Size: int64(e.lenBefore + e.op.Delta())}
	if v > r.hist.base {
		ev.Prev = r.hist.at(v - 1).id
	}
	return ev
}
