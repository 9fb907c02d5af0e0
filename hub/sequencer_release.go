package hub

import (
	"fmt"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/protocol"
)

// outcomeKind is what became of an op whose commit result was released.
type outcomeKind uint8

const (
	outCommitted outcomeKind = iota // applied: broadcast frame, ack from and waiters, publish
	outRefused                      // err: the store refused it; answer from and waiters unless told
	outSilent                       // durable while the room is broken: the reload delivers it
	outUnapplied                    // err: committed but does not apply to the text (a bug); the room reloads
	outTimedOut                     // not confirmed within the commit timeout; its outcome is not known yet
)

// outcome is one released op, with what the room needs to answer for it.
type outcome struct {
	kind     outcomeKind
	version  int64
	id       string
	author   string
	frame    []byte // committed: the "op" broadcast, encoded once
	payload  []byte // committed: the op's JSON, as stored and published
	from     origin
	waiters  []origin
	at       time.Time           // when it was handed to the store
	told     bool                // its origins were already told it timed out
	err      error               // outRefused, unapplied
	snapshot *eventlog.Snapshot  // committed: a snapshot is due at this version
	life     *protocol.Lifecycle // committed: a lifecycle event (§19)
}

// release appends to out the answered ops at the front of the pending
// ones, in version order, applying each committed one to the text, then
// the ops that became overdue at now.
func (s *sequencer) release(now time.Time, out []outcome) []outcome {
	for s.next < s.hist.head() {
		e := s.hist.at(s.next)
		if !e.answered {
			break
		}
		o := outcome{version: s.next, id: e.id, author: e.author, from: e.from, waiters: e.waiters, at: e.at, told: e.told, err: e.err}
		e.from, e.waiters = origin{}, nil // the outcome answers them; history must not keep connections
		s.next++
		switch {
		case e.err != nil:
			// Whatever the cause (storage down, or another writer took
			// the version), memory is now ahead of the log; every op
			// pending after it fails too (each names its predecessor,
			// which the log does not have), and the room reloads once
			// they have drained.
			o.kind = outRefused
			s.broken = true
			delete(s.ids, e.id)
		case s.broken:
			o.kind = outSilent
		default:
			s.finish(e, &o, now) // may trim: e is not used after it
		}
		out = append(out, o)
	}
	if s.pending() == 0 {
		s.stalled = false
	}
	return s.overdue(now, out)
}

// finish applies one committed op to the text.
func (s *sequencer) finish(e *entry, o *outcome, now time.Time) {
	if err := s.text.Apply(e.op); err != nil {
		o.kind, o.err = outUnapplied, err
		s.broken = true
		return
	}
	v := s.version
	s.version++
	e.frame = eventFrame(s.doc, v, e.id, e.author, e.op, e.life)
	o.kind, o.frame, o.payload, o.life = outCommitted, e.frame, e.payload, e.life
	e.payload = nil
	s.hist.committed(e)
	// No snapshot right after a lifecycle event: the load reads the events
	// after the latest snapshot to learn whether the document is deleted.
	if s.version%s.lim.snapshotEvery == 0 && e.life == nil {
		o.snapshot = &eventlog.Snapshot{Doc: s.doc, Version: s.version, Text: s.text.String(), Time: now}
	}
	s.hist.trim(s.lim.historyLen, s.lim.historyBytes, s.version, s.forget)
}

// overdue marks the pending ops not confirmed within the commit timeout
// (a stuck disk, a filesystem gone read-only) as told and returns them, so
// their origins hear unavailable rather than wait; new ops are refused
// until the store answers. Such an op may still commit later: its author
// then gets the ack, and a resend with the same id is acked.
func (s *sequencer) overdue(now time.Time, out []outcome) []outcome {
	if s.pending() == 0 || s.hist.at(s.next).told || now.Sub(s.hist.at(s.next).at) < s.lim.commitTimeout {
		return out
	}
	s.stalled = true
	for v := s.next; v < s.hist.head(); v++ {
		e := s.hist.at(v)
		if e.told || e.answered {
			continue
		}
		e.told = true
		out = append(out, outcome{kind: outTimedOut, version: v, id: e.id, from: e.from, waiters: e.waiters, at: e.at})
		e.waiters = nil
	}
	return out
}

// apply applies an event another process committed (or one read from the
// log) at the committed version and returns its broadcast frame.
func (s *sequencer) apply(v int64, id, author string, op document.Op, life *protocol.Lifecycle) ([]byte, error) {
	lenBefore := s.text.Len()
	if err := s.text.Apply(op); err != nil {
		s.broken = true
		return nil, fmt.Errorf("apply event at version %d: %w", v, err)
	}
	e := entry{op: op, id: id, author: author, lenBefore: lenBefore}
	e.frame = eventFrame(s.doc, v, id, author, op, life)
	if life != nil && life.Kind == protocol.LifecycleDelete {
		s.deleted = true
	}
	s.hist.push(e)
	s.hist.committed(s.hist.at(v))
	s.ids[id] = v
	s.version++
	s.next, s.specLen = s.version, s.text.Len()
	s.hist.trim(s.lim.historyLen, s.lim.historyBytes, s.version, s.forget)
	return e.frame, nil
}

// catchUp returns the frames a client at version from is missing: older
// (read from the log, for a from before the window) then the window's. It
// reports false when a snapshot should be sent instead: too many ops,
// more than maxBytes of frames, or a base the caller could not read.
func (s *sequencer) catchUp(from int64, older [][]byte, maxBytes int) ([][]byte, bool) {
	if from > s.version || s.version-from > int64(s.lim.maxCatchUp) || (from < s.hist.base && len(older) != int(s.hist.base-from)) {
		return nil, false
	}
	frames := older
	bytes := 0
	for _, f := range frames {
		bytes += len(f)
	}
	for v := max(from, s.hist.base); v < s.version; v++ {
		f := s.hist.at(v).frame
		if bytes += len(f); bytes > maxBytes {
			return nil, false // a snapshot is smaller, and fits the send queue
		}
		frames = append(frames, f)
	}
	return frames, bytes <= maxBytes
}

// checkSelection refuses a presence selection that does not fit the text
// at its version.
func (s *sequencer) checkSelection(p protocol.Peer) *protocol.Error {
	sel := p.Selection
	if sel == nil {
		return nil
	}
	switch {
	case p.Version > s.version:
		return refuse(protocol.CodeBadVersion, s.doc, "", fmt.Sprintf("selection at version %d is ahead of the document (at %d)", p.Version, s.version))
	case p.Version < s.hist.base:
		return refuse(protocol.CodeBadVersion, s.doc, "", fmt.Sprintf("selection at version %d is older than the server keeps (from %d); send it at your current version", p.Version, s.hist.base))
	}
	n := s.text.Len()
	if p.Version < s.version {
		n = s.hist.at(p.Version).lenBefore
	}
	if sel.Anchor > n || sel.Head > n {
		return refuse(protocol.CodeBadRequest, s.doc, "", fmt.Sprintf("selection {%d, %d} is past the end of the text (%d characters at version %d)", sel.Anchor, sel.Head, n, p.Version))
	}
	return nil
}
