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

// submit handles a local client's op. The client is answered later, when
// the op is committed; an error returned here is the refusal to send now.
func (r *room) submit(c *conn, req protocol.Request, at time.Time) *protocol.Error {
	if _, ok := r.subs[c]; !ok {
		return refuse(protocol.CodeNotOpen, r.doc, req.ID, "document is not open on this connection; send open first")
	}
	if r.h.closing.Load() {
		return unavailable(r.doc, req.ID, "server shutting down; retry on reconnect")
	}
	o := r.local(c)
	o.at = at
	return r.place(o, req)
}

// place sends an op where the document's ownership says: sequenced here,
// forwarded to the owner, or held until an owner is known.
func (r *room) place(o origin, req protocol.Request) *protocol.Error {
	now := time.Now()
	if t := r.own.expire(now); t != unchanged {
		r.transitioned(t)
	}
	switch r.own.role {
	case owning:
		return r.sequence(o, req)
	case following:
		if o.c == nil {
			r.notOwner(o, req.ID)
			return nil
		}
		return r.forwardOp(o, req)
	}
	return r.hold(o, req, now)
}

// sequence validates, deduplicates and transforms an op in the owner, then
// hands it to the store.
func (r *room) sequence(o origin, req protocol.Request) *protocol.Error {
	if r.broken || !r.loaded {
		if err := r.ensureLoaded(); err != nil {
			return unavailable(r.doc, req.ID, "document is recovering from a storage error; retry")
		}
	}
	if v, ok := r.ids[req.ID]; ok {
		r.ackDuplicate(o, req.ID, v)
		return nil
	}
	switch {
	case r.stalled:
		return unavailable(r.doc, req.ID, fmt.Sprintf("storage has not confirmed earlier ops for over %v; nothing was applied, retry", r.h.cfg.CommitTimeout))
	case r.pendingBytes > r.h.cfg.MaxPendingBytes:
		return unavailable(r.doc, req.ID, fmt.Sprintf("over %d bytes of this document are waiting to be stored; nothing was applied, retry", r.h.cfg.MaxPendingBytes))
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
	payload := op.AppendJSON(nil)
	r.hist.push(entry{op: op, id: id, author: authorOf(id), lenBefore: r.specLen, from: o, payload: payload, at: time.Now()})
	e := r.hist.at(v)
	r.ids[id] = v
	r.specLen += op.Delta()
	r.pendingBytes += len(payload)
	r.log.Debug().Str("op", id).Int64("version", v).Str("conn", o.conn).Str("origin", o.proc).Msg("op sequenced")
	r.h.store.AppendAsync(r.storeEvent(v, e), r.onCommit)
}

// submitOld handles an op whose base is older than the retained history.
// A resend of an op applied long ago is acked with its original version;
// otherwise the op is transformed against the missing ops read from the
// log, so a client lagging behind a hot document is served, not bounced.
// Only a base more than MaxCatchUp behind gets bad_version.
func (r *room) submitOld(o origin, req protocol.Request) *protocol.Error {
	ctx, cancel := r.readContext()
	defer cancel()
	v, found, err := r.h.store.FindOp(ctx, r.doc, req.ID)
	switch {
	case err != nil:
		r.log.Warn().Err(err).Str("op", req.ID).Msg("find op")
		return unavailable(r.doc, req.ID, "storage unavailable; retry")
	case found:
		r.replyAck(o, req.ID, v)
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
// it is committed, else when its commit lands. If its outcome is not known
// (the store timed out, or the room is recovering) the client is told to
// resend later, which is always safe with the same id.
func (r *room) ackDuplicate(o origin, id string, v int64) {
	if v < r.version {
		r.replyAck(o, id, v)
		return
	}
	e := r.hist.at(v)
	if e.told || v < r.next {
		r.replyError(o, unavailable(r.doc, id, "the outcome of this op is not known yet; resend it with the same id"))
		return
	}
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

// settle records one commit result. Results usually come in version
// order, but an append the store refuses at the door (queue full) is
// answered at once, before earlier ones; release puts them in order.
func (r *room) settle(res commitResult) {
	if res.version < r.next || !r.hist.contains(res.version) {
		r.log.Error().Int64("version", res.version).Int64("next", r.next).Msg("commit result for no pending op")
		return
	}
	e := r.hist.at(res.version)
	if e.answered {
		r.log.Error().Int64("version", res.version).Msg("second commit result for one op")
		return
	}
	e.answered, e.err = true, res.err
	r.pendingBytes -= len(e.payload)
	r.h.metrics.commit.observe(time.Since(e.at))
}

// release applies the answered results at the front of the pending ops,
// in version order, and reloads once a failure has drained.
func (r *room) release() {
	for r.next < r.hist.head() {
		e := r.hist.at(r.next)
		if !e.answered {
			break
		}
		r.next++
		switch {
		case e.err != nil:
			r.failCommit(e, e.err)
		case r.broken:
			// Durable, but memory is no longer the log (an earlier result
			// failed to apply). The reload delivers it to every
			// subscriber, its author included, who takes its own op as the
			// ack (protocol §5); a forwarding process acks it on applying.
			e.from, e.waiters = origin{}, nil
		default:
			r.finish(e)
		}
	}
	if r.pending() == 0 {
		r.stalled = false
	}
	r.maybeReload()
}

// finish applies one committed op: the text moves on, everyone else gets
// the op, its author the ack.
func (r *room) finish(e *entry) {
	v := r.version
	if err := r.text.Apply(e.op); err != nil {
		r.log.Error().Err(err).Str("op", e.id).Msg("committed op does not apply")
		r.broken = true
		return
	}
	r.version++
	r.h.metrics.opsApplied.Add(1)
	e.frame = protocol.AppendOp(nil, r.doc, v, e.id, e.author, e.op)
	for c := range r.subs {
		if c != e.from.c {
			c.send(e.frame)
		}
	}
	// Other processes deliver it to their clients, and ack it to its
	// origin if it was forwarded from one of them.
	r.h.pub.send(r.doc, docChannel(r.doc), busMsg{Kind: msgEvent, Doc: r.doc, Version: v, ID: e.id,
		Author: e.author, Op: e.payload, Proc: e.from.proc, Conn: e.from.conn, Owner: r.h.id, Time: e.at.UnixNano()})
	if e.from.c != nil {
		e.from.c.send(protocol.AppendAck(nil, r.doc, e.id, v))
		r.h.metrics.ack.observe(time.Since(e.from.at))
	}
	for _, w := range e.waiters {
		r.replyAck(w, e.id, v)
	}
	r.log.Debug().Str("op", e.id).Int64("version", v).Str("conn", e.from.conn).Int("subscribers", len(r.subs)).Msg("op committed")
	e.from, e.waiters, e.payload = origin{}, nil, nil
	r.hist.committed(e)
	if r.version%r.h.cfg.SnapshotEvery == 0 {
		r.h.store.PutSnapshotAsync(eventlog.Snapshot{Doc: r.doc, Version: r.version, Text: r.text.String(), Time: time.Now()})
	}
	r.hist.trim(r.h.cfg.HistoryLen, r.h.cfg.HistoryBytes, r.version, r.forget)
}

func (r *room) forget(e *entry) { delete(r.ids, e.id) }

// failCommit answers the submitter of an op the store refused. Whatever
// the cause (storage down, or another writer took the version), memory is
// now ahead of the log; every op pending after it fails too (each names
// its predecessor, which the log does not have), and the room reloads
// once they have drained.
func (r *room) failCommit(e *entry, err error) {
	r.broken = true
	delete(r.ids, e.id)
	r.h.metrics.opsRefused.Add(1)
	r.log.Warn().Err(err).Str("op", e.id).Str("conn", e.from.conn).Msg("commit failed")
	if !e.told {
		for _, o := range append(e.waiters, e.from) {
			r.replyError(o, unavailable(r.doc, e.id, commitRefusal(err)))
		}
	}
	e.from, e.waiters = origin{}, nil
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

// checkCommitTimeout tells the submitters of ops the store has not
// confirmed within CommitTimeout (a stuck disk, a filesystem gone
// read-only) that they are unavailable, rather than leave them waiting,
// and refuses new ops until the store answers. Such an op may still
// commit when the disk comes back: its author then gets the ack, and a
// resend with the same id (what clients do on unavailable) is acked.
func (r *room) checkCommitTimeout(now time.Time) {
	if r.pending() == 0 || r.hist.at(r.next).told || now.Sub(r.hist.at(r.next).at) < r.h.cfg.CommitTimeout {
		return
	}
	r.stalled = true
	r.log.Warn().Int64("pending", r.pending()).Dur("timeout", r.h.cfg.CommitTimeout).Msg("storage has not confirmed commits; answering unavailable")
	msg := fmt.Sprintf("storage did not confirm this op within %v; its outcome is not known yet: resend it with the same id", r.h.cfg.CommitTimeout)
	for v := r.next; v < r.hist.head(); v++ {
		e := r.hist.at(v)
		if e.told || e.answered {
			continue
		}
		e.told = true
		r.h.metrics.opsRefused.Add(1)
		for _, o := range append(e.waiters, e.from) {
			r.replyError(o, unavailable(r.doc, e.id, msg))
		}
		e.waiters = nil
	}
}

// storeEvent is the event appended for entry at version v. It names its
// predecessor, so the log refuses it unless it lands right on top of the
// op this room transformed it against.
func (r *room) storeEvent(v int64, e *entry) eventlog.Event {
	ev := eventlog.Event{Doc: r.doc, Version: v, OpID: e.id, Author: e.author, Time: e.at, Op: e.payload, Size: int64(e.lenBefore + e.op.Delta())}
	if v > r.hist.base {
		ev.Prev = r.hist.at(v - 1).id
	}
	return ev
}

// readContext bounds a read of the log made on the room's goroutine.
func (r *room) readContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), r.h.cfg.ReadTimeout)
}
