package client

import (
	"fmt"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/protocol"
)

// onSnapshot takes a snapshot: the first one of the document, the answer
// to a resync, or one the server sent on its own.
func (d *Doc) onSnapshot(text string, v int64) {
	d.bo.reset()
	if d.have && v < d.version {
		d.violation("snapshot", "", v, d.version) // the server went back in time
	}
	if !d.have {
		d.have = true
		d.server, d.local = document.NewText(text), document.NewText(text)
		d.version, d.state = v, stReady
		close(d.ready)
		return
	}
	if d.inflight != nil && !d.inflight.applied {
		if d.state == stProbing {
			d.probe = &probe{text: text, version: v} // the probe is already out
			return
		}
		d.state = stProbing
		d.probe = &probe{text: text, version: v}
		d.sendProbe()
		return
	}
	d.rebaseOnto(text, v)
	d.state = stReady
	d.flush()
}

// sendProbe resends the in-flight op as it was first sent: the server acks
// it with its original version if it was applied, else refuses it with
// bad_version (or applies it now, if the base is still in its history).
func (d *Doc) sendProbe() {
	f := d.inflight
	d.probes++
	d.send(opFrame(d.id, f.origBase, f.id, f.origOp))
}

// rebaseOnto replaces the server text with snapshot text at version v and
// rebases the pending edits onto it. The pending op is the buffer, on top
// of the server text plus the in-flight op if that is known applied (it is
// then part of the snapshot); a not-applied in-flight op must have been
// folded into the buffer or dropped by the caller.
func (d *Doc) rebaseOnto(text string, v int64) {
	base := d.server.String()
	if f := d.inflight; f != nil {
		if after, err := document.Apply(base, f.op); err == nil {
			base = after
		}
		d.inflight = nil
	}
	pending, toLocal := rebase(base, d.buffer, text)
	if err := d.local.Apply(toLocal); err != nil {
		// Only if local had drifted from base+buffer, which would be a bug;
		// the snapshot plus the rebased edits is the truth either way.
		d.log.Error().Err(err).Msg("resync: local text out of step; replaced")
		out, _ := document.Apply(text, pending)
		d.local = document.NewText(out)
	}
	d.server = document.NewText(text)
	d.version = v
	d.buffer = pending
	if h := d.c.cfg.OnRemote; h != nil && !toLocal.IsNoop() {
		d.hooks = append(d.hooks, func() { h(d.id, v, "", toLocal) })
	}
}

// rebase moves pending, an op on base, onto snapshot. It returns the
// rebased op (nil if nothing is left) and the op turning base+pending into
// snapshot+rebased, to apply to the local text.
func rebase(base string, pending document.Op, snapshot string) (rebased, toLocal document.Op) {
	d := diff(base, snapshot)
	if pending == nil {
		return nil, d
	}
	rebased, toLocal = document.Transform(pending, d)
	if rebased.IsNoop() {
		rebased = nil
	}
	return rebased, toLocal
}

// probeApplied settles a probe: the in-flight op was applied at v.
func (d *Doc) probeApplied(v int64) {
	d.markApplied(v)
	p := d.probe
	d.probe = nil
	if v >= p.version {
		d.resync() // applied after the snapshot: fetch one that has it
		return
	}
	d.finishProbe(p)
}

// probeNotApplied settles a probe whose op was not applied (bad_version) or
// was refused for good (dropped first by the caller).
func (d *Doc) probeNotApplied() {
	p := d.probe
	d.probe = nil
	if f := d.inflight; f != nil {
		d.buffer = compose(f.op, d.buffer)
		d.inflight = nil
	}
	d.finishProbe(p)
}

// finishProbe rebases onto the held snapshot and replays the ops that
// followed it.
func (d *Doc) finishProbe(p *probe) {
	d.rebaseOnto(p.text, p.version)
	d.state = stReady
	for _, m := range p.ops {
		if d.state != stReady {
			return // a gap or a failure started a resync
		}
		d.onOp(m)
	}
	d.flush()
}

func (d *Doc) onError(e *protocol.Error) {
	if e.Code == protocol.CodeGone {
		d.gone(e)
		return
	}
	if e.ID == "" {
		d.openError(e)
		return
	}
	if d.inflight == nil || e.ID != d.inflight.id {
		d.log.Debug().Str("id", e.ID).Str("code", string(e.Code)).Msg("error for an op no longer in flight")
		return
	}
	retry := e.Code == protocol.CodeUnavailable || e.Code == protocol.CodeRateLimited
	switch d.state {
	case stResyncing, stDetached:
		// The snapshot on its way will settle the op's fate.
	case stProbing:
		switch {
		case retry:
			d.retryLater()
		case e.Code == protocol.CodeBadVersion:
			d.probeNotApplied()
		default:
			d.dropInflight(e)
			d.probeNotApplied()
		}
	case stOpening, stReady:
		switch {
		case (retry || e.Code == protocol.CodeBadVersion) && d.state == stOpening:
			// An answer to a send before the reopen: "opened" resends.
		case retry:
			d.retryLater()
		case e.Code == protocol.CodeBadVersion || e.Code == protocol.CodeNotOpen:
			d.state = stOpening
			d.sendOpen()
		default:
			d.dropInflight(e)
			d.resync()
		}
	}
}

// gone stops a document that was deleted: a resync or reopen would only
// be refused again, so the Doc fails with ErrDeleted, reported once.
func (d *Doc) gone(e *protocol.Error) {
	if d.closed {
		return
	}
	err := fmt.Errorf("document %q: %w: %w", d.id, ErrDeleted, e)
	d.report(err)
	d.fail(err)
}

// openError handles an error about the document itself (no op id).
func (d *Doc) openError(e *protocol.Error) {
	err := fmt.Errorf("document %q: %w", d.id, e)
	if d.state != stOpening && d.state != stResyncing {
		d.report(err)
		return
	}
	switch e.Code {
	case protocol.CodeUnavailable, protocol.CodeRateLimited:
		d.retryLater()
	default:
		d.report(err)
		if !d.have {
			d.fail(err) // Open returns the error
		}
	}
}

// dropInflight drops an op the server refused for good: it is undone from
// the local text, the buffer is rebased onto the server text, and the
// error is reported.
func (d *Doc) dropInflight(e *protocol.Error) {
	f := d.inflight
	d.inflight = nil
	undo := invert(d.server.String(), f.op)
	if d.buffer != nil {
		d.buffer, undo = document.Transform(d.buffer, undo)
		if d.buffer.IsNoop() {
			d.buffer = nil
		}
	}
	if err := d.local.Apply(undo); err != nil {
		d.log.Error().Err(err).Msg("undo of a refused op does not fit")
	}
	d.report(fmt.Errorf("op %s on %q refused: %w", f.id, d.id, e))
	if h := d.c.cfg.OnRemote; h != nil && !undo.IsNoop() {
		v := d.version
		d.hooks = append(d.hooks, func() { h(d.id, v, "", undo) })
	}
}

func (d *Doc) report(err error) {
	d.log.Warn().Err(err).Msg("protocol error")
	if h := d.c.cfg.OnError; h != nil {
		d.hooks = append(d.hooks, func() { h(d.id, err) })
	}
}

// retryLater repeats what the state is waiting on (the open, the probe or
// the in-flight op) after a backoff, unless something else happened first.
func (d *Doc) retryLater() {
	d.retryTok++
	tok, s, st, f := d.retryTok, d.sess, d.state, d.inflight
	d.c.after(d.bo.next(), func() {
		d.mu.Lock()
		defer d.unlock()
		if d.closed || d.retryTok != tok || d.sess != s || d.state != st || d.inflight != f {
			return
		}
		switch {
		case d.state == stOpening || d.state == stResyncing:
			d.sendOpen()
		case d.state == stProbing && d.inflight != nil:
			d.sendProbe()
		case d.state == stReady && d.inflight != nil:
			d.sendInflight()
		}
	})
}
