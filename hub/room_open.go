package hub

import (
	"errors"
	"fmt"

	"github.com/collabedit/collab/protocol"
)

var errRecovering = errors.New("document recovering from a failed commit")

// open subscribes a connection and brings it to the committed version: a
// snapshot, or for a reconnecting client the ops it missed followed by
// "opened". From then on every commit reaches it in order, because
// broadcasts come from this same goroutine. A routed open (protocol §15)
// of a document another process owns is answered "moved" instead.
func (r *room) open(o origin, req protocol.Request) {
	c := o.c
	if req.Route && r.n.dir != nil && r.own.role == following && !r.subs.has(c) {
		url, err := r.lease.locate(r.own.holder)
		if err != nil {
			r.log.Debug().Err(err).Msg("locate owner")
		}
		if r.n.router.moveTo(c, o.connID, r.doc, r.own.holder, url) {
			return
		}
	}
	if !r.seq.loaded || r.seq.broken {
		if err := r.reload(); err != nil {
			c.sendError(unavailable(r.doc, "", "storage unavailable; retry opening"))
			return
		}
	}
	if req.HasVersion && req.Version > r.seq.version && !r.seq.deleted {
		// The client has seen commits this room has not: another process
		// served it, and what that one published last has not reached us
		// (it died right after, or the bus lost it). Read them from the
		// log first, so that the answer continues the client's stream
		// rather than sending it back to an older snapshot (§6). catchUp
		// waits for this room's own commits in flight; until they are in,
		// the client retries.
		r.catchUp()
		if req.Version > r.seq.version && r.seq.pending() > 0 {
			c.sendError(unavailable(r.doc, "", "document catching up; retry opening"))
			return
		}
	}
	if r.seq.deleted {
		c.sendError(goneRefusal(r.doc, ""))
		return
	}
	r.subs[c] = struct{}{}
	s := r.seq
	var frames [][]byte
	ok := req.HasVersion && req.Version <= s.version && s.version-req.Version <= int64(s.lim.maxCatchUp)
	if ok && req.Version < s.hist.base {
		ctx, cancel := r.n.ioContext(r.n.cfg.ReadTimeout)
		var err error
		frames, err = readFrames(ctx, r.n.store, r.doc, req.Version, s.hist.base, r.n.cfg.MaxCatchUpBytes)
		cancel()
		switch {
		case errors.Is(err, errUndecodable):
			r.log.Error().Err(err).Int64("from", req.Version).Msg("stored op does not decode")
		case err != nil && !errors.Is(err, errTooManyBytes):
			r.log.Warn().Err(err).Int64("from", req.Version).Msg("catch-up from log")
		}
		ok = err == nil
	}
	if ok {
		frames, ok = s.catchUp(req.Version, frames, r.n.cfg.MaxCatchUpBytes)
	}
	if ok {
		for _, f := range frames {
			c.send(f)
		}
		c.send(protocol.AppendOpened(nil, r.doc, s.version))
	} else {
		c.send(protocol.AppendSnapshot(nil, r.doc, s.version, s.text.String()))
	}
	if req.Presence {
		r.peers.watchFrom(c)
	}
}

// reload replaces the in-memory state with the log's: at the first load,
// and after a failed commit left memory ahead of the log. Every subscriber
// is then sent what the log holds beyond what it was sent, in order (a
// snapshot if that is no longer in the window). It changes nothing if
// the log cannot be read, and refuses while commits are still pending.
func (r *room) reload() error {
	s := r.seq
	if s.broken && s.pending() > 0 {
		return errRecovering
	}
	sent := s.version // every subscriber has been sent exactly the committed ops
	ctx, cancel := r.n.ioContext(r.n.cfg.ReadTimeout)
	defer cancel()
	hist, text, snap, err := load(ctx, r.n.store, r.doc, s.lim.historyLen, s.lim.historyBytes)
	var gone *goneError
	if errors.As(err, &gone) {
		s.version = gone.version
		if !s.deleted {
			r.dropDeleted()
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("load %q: %w", r.doc, err)
	}
	s.reset(hist, text)
	r.log.Debug().Int64("version", s.version).Int64("snapshot", snap).Msg("document loaded")
	switch {
	case len(r.subs) == 0 || sent == s.version:
	case sent < s.hist.base || sent > s.version:
		// Too far behind for the window (or a log shorter than what was
		// sent, which only a replaced file can cause): a snapshot (§5).
		r.subs.send(protocol.AppendSnapshot(nil, r.doc, s.version, s.text.String()), nil)
	default:
		for v := sent; v < s.version; v++ {
			r.subs.send(s.hist.at(v).frame, nil)
		}
	}
	return nil
}
