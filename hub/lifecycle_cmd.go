package hub

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/collabedit/collab/auth"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/protocol"
)

// Lifecycle renames or deletes doc (protocol §19) for by, who must be an
// owner of it (anyone, without access control). It is sequenced by the
// document's owner like an op, with id as its idempotency key: a resend
// with the same id is answered with the original version. It returns the
// version the event took, or the refusal as a *protocol.Error (CodeGone
// for a document that was deleted or never created).
func (h *Hub) Lifecycle(ctx context.Context, doc, id string, life protocol.Lifecycle, by Submitter) (int64, error) {
	if perr := protocol.ValidateDocID(doc); perr != nil {
		return 0, perr
	}
	if id == "" || len(id) > protocol.MaxOpIDLen {
		return 0, protocol.Errorf(protocol.CodeBadRequest, "an id of 1 to %d bytes is required", protocol.MaxOpIDLen)
	}
	if _, _, err := storedLifecycle(&life); err != nil {
		return 0, protocol.Errorf(protocol.CodeBadRequest, "%v", err)
	}
	req := protocol.Request{Type: protocol.TypeOp, Doc: doc, ID: id, HasVersion: true, Lifecycle: &life}
	return h.Submit(ctx, req, by)
}

// ErrNotDeleted refuses to purge a document that is not deleted.
var ErrNotDeleted = errors.New("document is not deleted")

// Purge erases a deleted document's events and snapshots for by, who
// must be an owner of it: one purge event replaces them in the log, so
// every projection and change-feed reader learns to forget the document
// too. It needs no room and no owner process: a deleted document takes no
// more events, and the log refuses a purge anywhere but right on top of
// the delete. Purging an already purged document is not an error.
func (h *Hub) Purge(ctx context.Context, doc, id string, by Submitter) error {
	if perr := protocol.ValidateDocID(doc); perr != nil {
		return perr
	}
	if by.Identity == nil && h.cfg.Auth == nil {
		by.Identity = auth.Anonymous()
	}
	if perr := h.mayCommand(ctx, protocol.Request{Type: protocol.TypeOp, Doc: doc, ID: id,
		Lifecycle: &protocol.Lifecycle{Kind: protocol.LifecycleDelete}}, by); perr != nil {
		return perr
	}
	head, err := h.store.Head(ctx, doc)
	if err != nil {
		return fmt.Errorf("purge %q: %w", doc, err)
	}
	if head == 0 {
		return &protocol.Error{Code: protocol.CodeGone, Doc: doc, Message: "no such document"}
	}
	last, err := h.store.Events(ctx, doc, head-1, 1)
	if err != nil || len(last) != 1 {
		return fmt.Errorf("purge %q: read its last event: %w", doc, errors.Join(err, eventlog.ErrUnavailable))
	}
	switch last[0].Kind {
	case eventlog.Purge:
		return nil
	case eventlog.Delete:
	default:
		return fmt.Errorf("purge %q: %w", doc, ErrNotDeleted)
	}
	author := ""
	if by.Identity != nil {
		author = by.Identity.Subject
	}
	_, err = h.store.Append(ctx, eventlog.Event{Doc: doc, Version: head, OpID: id, Author: author, Time: time.Now(),
		Op: []byte("[]"), Prev: last[0].OpID, Kind: eventlog.Purge})
	var dup *eventlog.DuplicateError
	if err != nil && !errors.As(err, &dup) {
		return fmt.Errorf("purge %q: %w", doc, err)
	}
	h.log.Info().Str("doc", doc).Str("op", id).Str("author", author).Msg("document purged")
	return nil
}
