package hub

import (
	"context"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/protocol"
)

// open subscribes c and brings it to the committed version: a snapshot, or
// for a reconnecting client the ops it missed followed by "opened". From
// then on every commit reaches it in order, because broadcasts come from
// this same goroutine.
func (r *room) open(c *conn, req protocol.Request) {
	if r.route(c, req) {
		return
	}
	if !r.loaded || r.broken {
		if err := r.ensureLoaded(); err != nil {
			c.sendError(unavailable(r.doc, "", "storage unavailable; retry opening"))
			return
		}
	}
	r.subs[c] = struct{}{}
	if req.HasVersion && req.Version <= r.version && r.catchUp(c, req.Version) {
		c.send(protocol.AppendOpened(nil, r.doc, r.version))
	} else {
		c.send(protocol.AppendSnapshot(nil, r.doc, r.version, r.text.String()))
	}
	if req.Presence {
		r.watchPresence(c)
	}
}

// ensureLoaded loads the document if it is not, or reports why it cannot be
// served now (still waiting for commits to fail out after a storage error).
func (r *room) ensureLoaded() error {
	if r.broken && r.pending() > 0 {
		return errRecovering
	}
	return r.reload()
}

// catchUp sends the committed ops from version `from` on. It reports false
// when they cannot be served (too many, or gone from the log), in which
// case the caller sends a snapshot instead.
func (r *room) catchUp(c *conn, from int64) bool {
	if r.version-from > int64(r.h.cfg.MaxCatchUp) {
		return false
	}
	if from < r.hist.base && !r.catchUpFromLog(c, from, r.hist.base) {
		return false
	}
	for v := max(from, r.hist.base); v < r.version; v++ {
		c.send(r.hist.at(v).frame)
	}
	return true
}

// catchUpFromLog reads [from, to) from the store for a client further
// behind than the in-memory history.
func (r *room) catchUpFromLog(c *conn, from, to int64) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	events, err := r.h.store.Events(ctx, r.doc, from, int(to-from))
	if err != nil || int64(len(events)) != to-from {
		r.log.Warn().Err(err).Int64("from", from).Int("got", len(events)).Msg("catch-up from log")
		return false
	}
	for _, ev := range events {
		var op document.Op
		if err := op.UnmarshalJSON(ev.Op); err != nil {
			r.log.Error().Err(err).Int64("version", ev.Version).Msg("stored op does not decode")
			return false
		}
		c.send(protocol.AppendOp(nil, r.doc, ev.Version, ev.OpID, ev.Author, op))
	}
	return true
}
