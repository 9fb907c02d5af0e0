package client

import (
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/protocol"
)

// The document state machine. Every transition happens under Doc.mu, on the
// reader goroutine of the session the document is attached to (server
// frames), on the supervisor (attach/detach), on a caller's goroutine
// (Submit) or on a retry timer. Frames from a session the document is not
// attached to are ignored.
//
// Data: server is the text at version as the server sequenced it; inflight
// is the one op sent and not yet acknowledged (kept transformed to
// version); buffer is every later local edit, composed; local is
// server+inflight+buffer. A remote op s at version is applied to server,
// then transformed past inflight and buffer (p', s' = Transform(p, s), the
// server's own call for a later-sequenced p) and s' is applied to local.
//
//	detached ──attach──▶ opening: sent open (+version once we have one)
//	opening: ops below version are duplicates (ignored), at version applied,
//	         above it a gap (→ resyncing). Our own op id in the catch-up is
//	         the ack of inflight. "opened" → ready: inflight is resent,
//	         transformed to version, with the SAME id (if it had been
//	         applied, the catch-up would have contained it).
//	ready:   normal flow. ack of inflight → buffer becomes the new inflight.
//	         Errors on inflight: unavailable/rate_limited → resend after a
//	         backoff; bad_version/not_open → opening (reopen at version);
//	         invalid_op/too_large/other → drop inflight (undo it locally,
//	         rebase buffer), OnError, → resyncing.
//	resyncing: sent open without version; ops are ignored until the
//	         snapshot, which contains all of them.
//	snapshot (in any attached state), first one: take it as the text.
//	         Nothing in flight, or inflight known applied: rebase (below),
//	         → ready. Inflight of unknown fate: → probing.
//	probing: the snapshot is held; inflight is resent with its ORIGINAL
//	         base and op and the same id. Later ops are queued.
//	         ack at v < snapshot version: it was applied and the snapshot
//	           contains it: rebase buffer onto the snapshot from
//	           server+inflight, replay the queued ops, → ready.
//	         ack at v >= snapshot version (the server had not applied it
//	           and did so now): mark applied, → resyncing for a snapshot
//	           that contains it.
//	         bad_version: never applied: rebase inflight∘buffer onto the
//	           snapshot from server, send it as a NEW op, → ready.
//	         unavailable/rate_limited: probe again after a backoff.
//	         invalid_op/...: drop inflight, then as bad_version.
//	any ──detach──▶ detached (a held probe is discarded: nothing of it was
//	         applied, so the reopen starts from consistent state).
//
// Rebase onto a snapshot S: with B the base text the pending op P applies
// to (server, or server+inflight when inflight is applied), D = diff(B, S)
// (common prefix/suffix), P', D' = Transform(P, D); local gets D', server
// becomes S, and P' is sent as a new op.
type state uint8

const (
	stDetached state = iota
	stOpening
	stResyncing
	stProbing
	stReady
)

// attach opens the document on a new session.
func (d *Doc) attach(s *session) {
	d.mu.Lock()
	defer d.unlock()
	if d.closed || d.sess == s {
		return
	}
	d.sess, d.probe = s, nil
	d.retryTok++
	d.state = stOpening
	d.opens = 0
	d.sendOpen()
}

// detach notes that s is gone; the document waits for the next attach.
func (d *Doc) detach(s *session) {
	d.mu.Lock()
	defer d.unlock()
	if d.sess != s {
		return
	}
	d.sess, d.probe = nil, nil
	d.retryTok++
	d.state = stDetached
}

// sendOpen sends the open the current state calls for.
func (d *Doc) sendOpen() {
	resume := d.have && d.state == stOpening
	d.opens++
	d.send(openFrame(d.id, d.version, resume, d.c.routeOpen()))
	if d.me != nil {
		// The server forgot us with the old connection.
		d.send(presenceFrame(d.id, d.version, d.stated()))
	}
}

func (d *Doc) send(frame []byte) {
	if d.sess != nil {
		d.sess.send(frame)
	}
}

// handle runs one server frame through the state machine.
func (d *Doc) handle(s *session, msg protocol.Message) {
	d.mu.Lock()
	defer d.unlock()
	if d.closed || d.sess != s {
		return
	}
	switch msg.Type {
	case protocol.TypeSnapshot:
		d.c.served()
		d.onSnapshot(msg.Text, msg.Version)
	case protocol.TypeOpened:
		d.c.served()
		d.onOpened(msg.Version)
	case protocol.TypeMoved:
		if d.state == stOpening && msg.URL != "" {
			d.c.moveTo(s, msg.URL)
		}
	case protocol.TypeOp:
		d.onOp(remoteOp{version: msg.Version, id: msg.ID, op: msg.Op, life: msg.Lifecycle})
	case protocol.TypeAck:
		d.onAck(msg.ID, msg.Version)
	case protocol.TypeError:
		if msg.Session != "" && msg.ID == "" {
			d.onPresenceRefused(msg.Err())
			return
		}
		d.onError(msg.Err())
	case protocol.TypeRoster, protocol.TypePresence, protocol.TypeLeft:
		d.onPresence(msg)
	}
}

func (d *Doc) onOpened(v int64) {
	if d.state != stOpening {
		return
	}
	if v != d.version {
		d.violation("opened", "", v, d.version)
		d.log.Warn().Int64("opened", v).Int64("have", d.version).Msg("catch-up ended at another version")
		d.resync()
		return
	}
	d.state = stReady
	d.bo.reset()
	switch {
	case d.inflight == nil:
		d.flush()
	case d.inflight.applied:
		d.resync()
	default:
		d.sendInflight()
	}
}

func (d *Doc) onOp(m remoteOp) {
	switch d.state {
	case stResyncing:
		return
	case stProbing:
		if d.inflight != nil && m.id == d.inflight.id {
			d.probeApplied(m.version)
			return
		}
		d.probe.ops = append(d.probe.ops, m)
		return
	}
	switch {
	case m.version < d.version:
		// Already have it. Only a document re-served on the connection
		// that sent open again may repeat versions (§6.2).
		if d.state != stOpening || d.opens < 2 {
			d.violation("op", m.id, m.version, d.version)
		}
		return
	case m.version > d.version:
		d.violation("op", m.id, m.version, d.version)
		d.log.Warn().Int64("op", m.version).Int64("have", d.version).Msg("gap in ops")
		d.resync()
		return
	}
	if d.inflight != nil && m.id == d.inflight.id {
		d.acked(m.version)
		return
	}
	d.applyRemote(m)
}

// applyRemote applies someone else's op at version.
func (d *Doc) applyRemote(m remoteOp) {
	if err := d.server.Apply(m.op); err != nil {
		d.log.Error().Err(err).Int64("version", m.version).Msg("server op does not fit the server text")
		d.resync()
		return
	}
	s := m.op
	if d.inflight != nil {
		d.inflight.op, s = document.Transform(d.inflight.op, s)
	}
	if d.buffer != nil {
		if d.buffer, s = document.Transform(d.buffer, s); d.buffer.IsNoop() {
			d.buffer = nil
		}
	}
	if err := d.local.Apply(s); err != nil {
		// Cannot happen if the transform is right; recover by resyncing.
		d.log.Error().Err(err).Msg("transformed op does not fit the local text")
		d.resync()
		return
	}
	d.version++
	if d.me != nil && d.me.Selection != nil {
		// Our caret moves with the text under it, as an editor's would.
		sel := d.me.Selection.Transform(s)
		d.me.Selection = &sel
	}
	if h := d.c.cfg.OnRemote; h != nil {
		d.hooks = append(d.hooks, func() { h(d.id, m.version, m.id, s) })
	}
	if h := d.c.cfg.OnLifecycle; h != nil && m.life != nil {
		lc := *m.life
		d.hooks = append(d.hooks, func() { h(d.id, m.version, lc) })
	}
}

func (d *Doc) onAck(id string, v int64) {
	if d.inflight == nil || id != d.inflight.id {
		return // a late duplicate ack
	}
	switch d.state {
	case stProbing:
		d.probeApplied(v)
	case stResyncing:
		d.markApplied(v) // the awaited snapshot contains it
	case stOpening, stReady:
		if v == d.version {
			d.acked(v)
			return
		}
		d.violation("ack", id, v, d.version)
		d.log.Warn().Int64("ack", v).Int64("have", d.version).Msg("ack out of sequence")
		d.markApplied(v)
		d.resync()
	}
}

// acked integrates the in-flight op, applied at v == version.
func (d *Doc) acked(v int64) {
	f := d.inflight
	if err := d.server.Apply(f.op); err != nil {
		d.log.Error().Err(err).Msg("acked op does not fit the server text")
		d.markApplied(v)
		d.resync()
		return
	}
	d.markApplied(v)
	d.inflight = nil
	d.version = v + 1
	d.bo.reset()
	d.flush()
	if d.inflight == nil && d.me != nil {
		// Nothing pending: the local text is the server's text at version,
		// so our selection can now be stated exactly against it.
		d.send(presenceFrame(d.id, d.version, d.stated()))
	}
}

// markApplied records that the in-flight op was applied at v and reports
// the ack, once.
func (d *Doc) markApplied(v int64) {
	f := d.inflight
	if f.applied {
		return
	}
	f.applied = true
	if h := d.c.cfg.OnAck; h != nil {
		lat := time.Since(f.sent)
		d.hooks = append(d.hooks, func() { h(d.id, f.id, v, lat) })
	}
}

// flush sends the buffer as the new in-flight op when the way is clear.
func (d *Doc) flush() {
	if d.state != stReady || d.inflight != nil || d.buffer == nil || d.sess == nil {
		return
	}
	d.inflight = &flight{id: d.c.nextID(), op: d.buffer, origBase: d.version, origOp: d.buffer, sent: time.Now()}
	d.buffer = nil
	d.sendInflight()
}

// sendInflight (re)sends the in-flight op at the current version.
func (d *Doc) sendInflight() {
	d.send(opFrame(d.id, d.version, d.inflight.id, d.inflight.op))
}

// violation reports a frame that broke the ordering of §6 to
// Config.OnOrderViolation, once the lock is released.
func (d *Doc) violation(kind, id string, got, want int64) {
	if h := d.c.cfg.OnOrderViolation; h != nil {
		v := OrderViolation{Kind: kind, ID: id, Got: got, Want: want}
		d.hooks = append(d.hooks, func() { h(d.id, v) })
	}
}

// resync asks for a fresh snapshot; ops are ignored until it arrives.
func (d *Doc) resync() {
	if d.sess == nil {
		return // the next attach reopens anyway
	}
	d.state = stResyncing
	d.probe = nil
	d.resyncs++
	d.sendOpen()
}
