package hub

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/protocol"
)

// submit handles a local client's op: it is sequenced here if this
// process owns the document, else forwarded to the owner. The client is
// answered later, when the op is committed; an error returned here is the
// refusal to send now.
func (r *room) submit(c *conn, req protocol.Request) *protocol.Error {
	if _, ok := r.subs[c]; !ok {
		return refuse(protocol.CodeNotOpen, r.doc, req.ID, "document is not open on this connection; send open first")
	}
	if r.broken || !r.loaded {
		if err := r.ensureLoaded(); err != nil {
			return unavailable(r.doc, req.ID, "document is recovering from a storage error; retry")
		}
	}
	if r.h.closing.Load() {
		return unavailable(r.doc, req.ID, "server shutting down; retry on reconnect")
	}
	if !r.owner {
		if v, ok := r.ids[req.ID]; ok {
			c.send(protocol.AppendAck(nil, r.doc, req.ID, v))
			return nil
		}
		return r.forwardOp(c, req)
	}
	return r.sequence(r.local(c), req)
}

// sequence validates, deduplicates and transforms an op in the owner, then
// hands it to the store.
func (r *room) sequence(o origin, req protocol.Request) *protocol.Error {
	if v, ok := r.ids[req.ID]; ok {
		r.ackDuplicate(o, req.ID, v)
		return nil
	}
	head := r.hist.head()
	switch {
	case req.Version > head:
		return refuse(protocol.CodeBadVersion, r.doc, req.ID,
			fmt.Sprintf("version %d is ahead of the document (at %d)", req.Version, head))
	case req.Version < r.hist.base:
		return r.submitOld(o, req)
	}
	op, perr := r.rebase(req)
	if perr != nil {
		return perr
	}
	r.accept(o, req.ID, op)
	return nil
}

// rebase checks that the op fits the document at its base version and
// transforms it over everything sequenced since, pending ops included.
func (r *room) rebase(req protocol.Request) (document.Op, *protocol.Error) {
	lenAt := r.specLen
	if r.hist.contains(req.Version) {
		lenAt = r.hist.at(req.Version).lenBefore
	}
	op := req.Op
	if n := op.BaseLen(); n > lenAt {
		return nil, refuse(protocol.CodeInvalidOp, r.doc, req.ID,
			fmt.Sprintf("op spans %d characters but the document had %d at version %d", n, lenAt, req.Version))
	}
	for v := req.Version; v < r.hist.head(); v++ {
		op, _ = document.Transform(op, r.hist.at(v).op)
	}
	if newLen := r.specLen + op.Delta(); newLen > r.h.cfg.MaxDocLen {
		return nil, refuse(protocol.CodeTooLarge, r.doc, req.ID,
			fmt.Sprintf("document would be %d characters, over the limit of %d", newLen, r.h.cfg.MaxDocLen))
	}
	return op, nil
}

// accept sequences op at the head and sends it to the store.
func (r *room) accept(o origin, id string, op document.Op) {
	v := r.hist.head()
	r.hist.push(entry{op: op, id: id, author: authorOf(id), lenBefore: r.specLen, from: o, payload: op.AppendJSON(nil)})
	e := r.hist.at(v)
	r.ids[id] = v
	r.specLen += op.Delta()
	r.h.store.AppendAsync(r.storeEvent(v, e, e.payload), r.onCommit)
	r.log.Debug().Str("op", id).Int64("version", v).Str("conn", o.conn).Str("origin", o.proc).Msg("op sequenced")
}

// submitOld handles an op whose base is older than the retained history.
// A resend of an op applied long ago is acked with its original version;
// otherwise the op is transformed against the missing ops read from the
// log, so a client lagging behind a hot document is served, not bounced.
// Only a base more than MaxCatchUp behind gets bad_version.
func (r *room) submitOld(o origin, req protocol.Request) *protocol.Error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, found, err := r.h.store.FindOp(ctx, r.doc, req.ID)
	switch {
	case err != nil:
		r.log.Warn().Err(err).Str("op", req.ID).Msg("find op")
		return unavailable(r.doc, req.ID, "storage unavailable; retry")
	case found:
		r.reply(o, req.ID, protocol.AppendAck(nil, r.doc, req.ID, v))
		return nil
	case r.hist.head()-req.Version > int64(r.h.cfg.MaxCatchUp):
		return refuse(protocol.CodeBadVersion, r.doc, req.ID,
			fmt.Sprintf("version %d is more than %d ops behind (at %d); reopen the document", req.Version, r.h.cfg.MaxCatchUp, r.hist.head()))
	}
	older, err := r.h.store.Events(ctx, r.doc, req.Version, int(r.hist.base-req.Version))
	if err != nil || int64(len(older)) != r.hist.base-req.Version {
		r.log.Warn().Err(err).Int64("from", req.Version).Msg("read ops to transform against")
		return unavailable(r.doc, req.ID, "storage unavailable; retry")
	}
	op, perr := r.rebaseFromLog(req, older, r.hist.at(r.hist.base).lenBefore)
	if perr != nil {
		return perr
	}
	req.Op, req.Version = op, r.hist.base
	op, perr = r.rebase(req)
	if perr != nil {
		return perr
	}
	r.accept(o, req.ID, op)
	return nil
}

// rebaseFromLog transforms req's op over stored events up to the start of
// the in-memory window, checking first that it fits the document at its
// base (the length there is worked back from lenAtEnd).
func (r *room) rebaseFromLog(req protocol.Request, events []eventlog.Event, lenAtEnd int) (document.Op, *protocol.Error) {
	ops := make([]document.Op, len(events))
	lenAt := lenAtEnd
	for i := len(events) - 1; i >= 0; i-- {
		if err := ops[i].UnmarshalJSON(events[i].Op); err != nil {
			return nil, r.internal(req.ID, fmt.Errorf("stored op at version %d: %w", events[i].Version, err))
		}
		lenAt -= ops[i].Delta()
	}
	op := req.Op
	if n := op.BaseLen(); n > lenAt {
		return nil, refuse(protocol.CodeInvalidOp, req.Doc, req.ID,
			fmt.Sprintf("op spans %d characters but the document had %d at version %d", n, lenAt, req.Version))
	}
	for _, applied := range ops {
		op, _ = document.Transform(op, applied)
	}
	return op, nil
}

// ackDuplicate answers a resent op id: at once with the original version if
// it is committed, else when its commit lands.
func (r *room) ackDuplicate(o origin, id string, v int64) {
	if v < r.version {
		r.reply(o, id, protocol.AppendAck(nil, r.doc, id, v))
		return
	}
	e := r.hist.at(v)
	e.waiters = append(e.waiters, o)
}

// authorOf takes the client id from an op id "<client-id>:<seq>": it names
// the editing session that wrote the op.
func authorOf(id string) string {
	if i := strings.LastIndexByte(id, ':'); i > 0 {
		return id[:i]
	}
	return id
}

// finish applies one commit result, in version order.
func (r *room) finish(res commitResult) {
	if res.version != r.version {
		// The store answers in submission order, so this is a bug.
		r.log.Error().Int64("got", res.version).Int64("want", r.version).Msg("commit out of order")
		r.broken = true
		return
	}
	e := r.hist.at(res.version)
	if res.err != nil || r.broken {
		r.failCommit(e, res.err)
		return
	}
	if err := r.text.Apply(e.op); err != nil {
		r.log.Error().Err(err).Str("op", e.id).Msg("committed op does not apply")
		r.broken = true
		return
	}
	r.version++
	r.sent = r.version
	r.h.metrics.opsApplied.Add(1)
	e.frame = protocol.AppendOp(nil, r.doc, res.version, e.id, e.author, e.op)
	for c := range r.subs {
		if c != e.from.c {
			c.send(e.frame)
		}
	}
	// Other processes deliver it to their clients, and ack it to its
	// origin if it was forwarded from one of them.
	r.h.pub.send(r.doc, docChannel(r.doc), busMsg{Kind: msgEvent, Doc: r.doc, Version: res.version, ID: e.id,
		Author: e.author, Op: e.payload, Proc: e.from.proc, Conn: e.from.conn, Owner: r.h.id})
	ack := protocol.AppendAck(nil, r.doc, e.id, res.version)
	if e.from.c != nil {
		e.from.c.send(ack)
	}
	for _, w := range e.waiters {
		r.reply(w, e.id, ack)
	}
	r.log.Debug().Str("op", e.id).Int64("version", res.version).Str("conn", e.from.conn).Int("subscribers", len(r.subs)).Msg("op committed")
	e.from, e.waiters, e.payload = origin{}, nil, nil
	if r.version%r.h.cfg.SnapshotEvery == 0 && r.owner {
		r.h.store.PutSnapshotAsync(eventlog.Snapshot{Doc: r.doc, Version: r.version, Text: r.text.String(), Time: time.Now()})
	}
	r.hist.trim(r.h.cfg.HistoryLen, r.version, r.forget)
}

func (r *room) forget(e *entry) { delete(r.ids, e.id) }

// failCommit answers the submitter of an op the store refused. Whatever the
// cause (storage down, or another writer took the version), memory is now
// ahead of the log, so the room reloads once nothing is pending.
func (r *room) failCommit(e *entry, err error) {
	r.broken = true
	if err == nil {
		// Committed after an earlier failure: it is durable, and the reload
		// delivers it to everyone, its author included (who sees its own id
		// and takes it as the ack).
		r.version++
		return
	}
	r.h.metrics.opsRefused.Add(1)
	r.log.Warn().Err(err).Str("op", e.id).Msg("commit failed")
	msg := "storage unavailable; nothing was applied, retry"
	if errors.Is(err, eventlog.ErrConflict) || errors.Is(err, eventlog.ErrDuplicate) {
		msg = "document changed underneath; nothing was applied, retry"
	}
	for _, o := range append(e.waiters, e.from) {
		r.replyError(o, unavailable(r.doc, e.id, msg))
	}
	e.from, e.waiters = origin{}, nil
	r.version++ // the slot is consumed; reload restores the truth
}
