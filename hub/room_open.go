package hub

import (
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
	if err := r.ensureLoaded(); err != nil {
		c.sendError(unavailable(r.doc, "", "storage unavailable; retry opening"))
		return
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

// catchUp sends the committed ops from version `from` on. It reports false
// when they cannot be served (too many, too many bytes for the send
// queue, or gone from the log), in which case the caller sends a snapshot
// instead.
func (r *room) catchUp(c *conn, from int64) bool {
	if r.version-from > int64(r.h.cfg.MaxCatchUp) {
		return false
	}
	var frames [][]byte
	if from < r.hist.base {
		var ok bool
		if frames, ok = r.framesFromLog(from, r.hist.base); !ok {
			return false
		}
	}
	bytes := 0
	for _, f := range frames {
		bytes += len(f)
	}
	for v := max(from, r.hist.base); v < r.version; v++ {
		bytes += len(r.hist.at(v).frame)
	}
	if bytes > r.h.cfg.MaxCatchUpBytes {
		return false // a snapshot is smaller, and fits the send queue
	}
	for _, f := range frames {
		c.send(f)
	}
	for v := max(from, r.hist.base); v < r.version; v++ {
		c.send(r.hist.at(v).frame)
	}
	return true
}

// framesFromLog reads [from, to) from the store for a client further
// behind than the in-memory history, stopping once the frames are over
// MaxCatchUpBytes.
func (r *room) framesFromLog(from, to int64) ([][]byte, bool) {
	ctx, cancel := r.readContext()
	defer cancel()
	events, err := r.h.store.Events(ctx, r.doc, from, int(to-from))
	if err != nil || int64(len(events)) != to-from {
		r.log.Warn().Err(err).Int64("from", from).Int("got", len(events)).Msg("catch-up from log")
		return nil, false
	}
	frames := make([][]byte, 0, len(events))
	bytes := 0
	for _, ev := range events {
		var op document.Op
		if err := op.UnmarshalJSON(ev.Op); err != nil {
			r.log.Error().Err(err).Int64("version", ev.Version).Msg("stored op does not decode")
			return nil, false
		}
		f := protocol.AppendOp(nil, r.doc, ev.Version, ev.OpID, ev.Author, op)
		if bytes += len(f); bytes > r.h.cfg.MaxCatchUpBytes {
			return nil, false
		}
		frames = append(frames, f)
	}
	return frames, true
}
