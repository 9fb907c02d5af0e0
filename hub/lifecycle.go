package hub

import (
	"fmt"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/protocol"
)

// Document lifecycle (protocol §19): rename and delete are sequenced like
// ops, by the document's owner, so they are ordered with the edits, reach
// every process on the bus as events, and land in the log only on top of
// the op they were sequenced after (the log's gap rule also keeps anything
// from landing on top of a delete). A purge (purge.go) needs no owner: a
// deleted document takes no more events, so nothing races with it.

// eventFrame encodes the broadcast of a committed event: an "op" message,
// with the lifecycle object for a lifecycle event.
func eventFrame(doc string, v int64, id, author string, op document.Op, life *protocol.Lifecycle) []byte {
	if life != nil {
		return protocol.AppendLifecycle(nil, doc, v, id, author, *life)
	}
	return protocol.AppendOp(nil, doc, v, id, author, op)
}

// lifecycleOf returns what a stored event did to its document, nil for an
// edit. A rename whose meta does not decode keeps the first line (title
// ""): the event still takes its version.
func lifecycleOf(ev eventlog.Event) *protocol.Lifecycle {
	switch ev.Kind {
	case eventlog.Rename:
		title, _ := ev.Title()
		return &protocol.Lifecycle{Kind: protocol.LifecycleRename, Title: title}
	case eventlog.Delete, eventlog.Purge:
		return &protocol.Lifecycle{Kind: protocol.LifecycleDelete}
	}
	return nil
}

// storedLifecycle is the log's form of a lifecycle command.
func storedLifecycle(life *protocol.Lifecycle) (eventlog.Kind, []byte, error) {
	switch life.Kind {
	case protocol.LifecycleRename:
		meta, err := eventlog.RenameEvent(life.Title)
		return eventlog.Rename, meta, err
	case protocol.LifecycleDelete:
		return eventlog.Delete, nil, nil
	}
	return "", nil, fmt.Errorf("lifecycle kind %q: %w", life.Kind, eventlog.ErrInvalid)
}

// goneError reports a deleted document found when loading it.
type goneError struct {
	doc     string
	version int64 // the document's version after its tombstone
}

func (e *goneError) Error() string {
	return fmt.Sprintf("document %q was deleted (version %d)", e.doc, e.version)
}

// goneRefusal is the answer to an open or op of a deleted document.
func goneRefusal(doc, id string) *protocol.Error {
	return &protocol.Error{Code: protocol.CodeGone, Doc: doc, ID: id, Message: "this document was deleted"}
}

// pushLifecycle sequences a lifecycle command at the head. Its op is the
// identity, so it needs no transform and fits any base version. A delete
// closes the document for every later op at once, before it commits; if
// the commit fails, the reload reads the log and brings it back.
func (s *sequencer) pushLifecycle(o origin, req protocol.Request, now time.Time) admission {
	kind, meta, err := storedLifecycle(req.Lifecycle)
	if err != nil {
		return refusal(refuse(protocol.CodeBadRequest, s.doc, req.ID, err.Error()))
	}
	if s.hist.head() == 0 {
		return refusal(&protocol.Error{Code: protocol.CodeGone, Doc: s.doc, ID: req.ID, Message: "no such document"})
	}
	a := s.push(o, req.ID, nil, now, req.Lifecycle)
	a.ev.Kind, a.ev.Meta = kind, meta
	if kind == eventlog.Delete {
		s.deleted = true
	}
	return a
}

// forget drops a deleted document's text and history: it takes no more
// events (but a purge, which needs no room), so memory holds nothing of
// it but its version.
func (s *sequencer) forgetDeleted() {
	s.hist = history{base: s.version}
	s.ids = make(map[string]int64)
	s.text = document.NewText("")
	s.next, s.specLen, s.pendingBytes = s.version, 0, 0
	s.loaded, s.broken, s.stalled, s.deleted = true, false, false, true
}

// afterDelete answers an op or command for a deleted document: a resend
// of one applied before (or of the delete itself) is acked with its
// version, as for any document (protocol §4), so a client whose ack was
// lost learns its fate; anything else is refused with gone. The room no
// longer holds the ids, so it asks the log — only ever for a deleted
// document.
func (r *room) afterDelete(o origin, id string) *protocol.Error {
	ctx, cancel := r.n.ioContext(r.n.cfg.ReadTimeout)
	defer cancel()
	v, found, err := r.n.store.FindOp(ctx, r.doc, id)
	switch {
	case err != nil:
		r.log.Warn().Err(err).Str("op", id).Msg("find op of a deleted document")
		return unavailable(r.doc, id, "storage unavailable; retry")
	case found:
		r.out.ack(o, id, v)
		return nil
	}
	return goneRefusal(r.doc, id)
}

// dropDeleted tells every subscriber that the document was deleted and
// forgets its text. The subscribers stay until they close the document or
// leave, and hear nothing more.
func (r *room) dropDeleted() {
	r.seq.forgetDeleted()
	frame := protocol.AppendError(nil, goneRefusal(r.doc, ""))
	r.subs.send(frame, nil)
	r.log.Info().Int64("version", r.seq.version).Msg("document deleted")
}
