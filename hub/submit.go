package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/collabedit/collab/auth"
	"github.com/collabedit/collab/protocol"
)

// Submitter is who submits an op without a socket (Hub.Submit): the
// identity its request was authenticated as, and the token and client
// address it presented, which an authorizer (a webhook) may look at.
type Submitter struct {
	Identity *auth.Identity // nil: not authenticated (refused when the hub checks access)
	Token    string
	Remote   string // the client's address, for the authorizer and the logs
	// addr is the client's address key (clientaddr.Key) when it is known,
	// for the per-user limits of anonymous callers.
	addr string
}

var submitSeq atomic.Uint64

// Submit applies one op to req.Doc as a socket client's op would be: the
// same validation, sequencing and answers, through the document's room
// (which it opens for the time of the op, like a connection's open), the
// caller's role (write needed) and per-user limits, with the identity as
// author. A resend of an op id already applied is answered with its
// original version and applies nothing. It returns the version the op
// was applied at, or the refusal as a *protocol.Error. req must have been
// decoded as an op (protocol.DecodeRequest). When ctx ends first the
// op's outcome is unknown: resend it with the same id.
func (h *Hub) Submit(ctx context.Context, req protocol.Request, by Submitter) (int64, error) {
	if by.Identity == nil && h.cfg.Auth == nil {
		by.Identity = auth.Anonymous()
	}
	if err := h.mayCommand(ctx, req, by); err != nil {
		h.metrics.refused(err.Code)
		return 0, err
	}
	rec := &catcher{m: &h.metrics, id: req.ID, answer: make(chan answer, 1)}
	o := origin{c: rec, proc: h.id, connID: "http-" + strconv.FormatUint(submitSeq.Add(1), 36), at: time.Now(),
		author: by.Identity.Subject, limitKey: limitKey(by.Identity, by.addrKey())}
	in := h.open(o, protocol.Request{Type: protocol.TypeOpen, Doc: req.Doc})
	if in == nil {
		return rec.wait(ctx, req)
	}
	defer in.deliver(req.Doc, command{kind: cmdLeave, from: origin{c: rec, connID: o.connID}})
	in.deliver(req.Doc, command{kind: cmdOp, from: o, req: req}) // a stopped room answers rec
	return rec.wait(ctx, req)
}

// addrKey is the per-user limit key of an anonymous submitter.
func (by Submitter) addrKey() string {
	if by.addr != "" {
		return by.addr
	}
	return by.Remote
}

// mayCommand applies, before the room, what a connection checks before
// delivering an op: identity, write role, and the per-user limits.
func (h *Hub) mayCommand(ctx context.Context, req protocol.Request, by Submitter) *protocol.Error {
	if by.Identity == nil {
		return &protocol.Error{Code: protocol.CodeUnauth, Doc: req.Doc, ID: req.ID, Message: "a token is required"}
	}
	role, need := auth.Owner, auth.Write // without access control anyone may do anything
	if req.Lifecycle != nil {
		need = auth.Owner
	}
	if h.cfg.Auth != nil {
		var err error
		if role, err = h.cfg.Auth.Authorize(ctx, by.Identity, by.Token, req.Doc, by.Remote); err != nil {
			e := authError(err)
			if e.Code == protocol.CodeUnauth {
				e.Code = protocol.CodeForbidden
			}
			e.Doc, e.ID = req.Doc, req.ID
			return e
		}
	}
	switch {
	case role < auth.Write:
		return &protocol.Error{Code: protocol.CodeForbidden, Doc: req.Doc, ID: req.ID,
			Message: "you may not edit this document; nothing was applied"}
	case role < need:
		return &protocol.Error{Code: protocol.CodeForbidden, Doc: req.Doc, ID: req.ID,
			Message: "only an owner of this document may rename or delete it"}
	}
	key := limitKey(by.Identity, by.addrKey())
	if !h.allowUser(h.users.msgs, key, 1) {
		h.metrics.rateLimited.Add(1)
		h.metrics.userRateLimited.Add(1)
		return protocol.Errorf(protocol.CodeRateLimited, "over %g messages/s for this user; slow down", h.cfg.UserRate)
	}
	if n := insertedBytes(req.Op); n > 0 && !h.allowUser(h.users.bytes, key, n) {
		h.metrics.rateLimited.Add(1)
		h.metrics.userInsertLimited.Add(1)
		return &protocol.Error{Code: protocol.CodeRateLimited, Doc: req.Doc, ID: req.ID, Message: fmt.Sprintf(
			"over %g bytes/s of inserted text for this user; nothing was applied, resend later", h.cfg.UserInsertRate)}
	}
	return nil
}

// answer is an op's outcome as a room told it.
type answer struct {
	version int64
	err     *protocol.Error
}

var _ subscriber = (*catcher)(nil)

// catcher is the subscriber behind Submit: it keeps the first answer
// to its op (an ack, or a refusal of the op or of the open) and ignores
// every other frame (the snapshot, others' ops). It never blocks.
type catcher struct {
	m      *metrics
	id     string
	answer chan answer // capacity 1: the first answer wins
}

var (
	ackPrefix   = []byte(`{"type":"ack"`)
	errorPrefix = []byte(`{"type":"error"`)
)

func (r *catcher) send(frame []byte) {
	if !bytes.HasPrefix(frame, ackPrefix) && !bytes.HasPrefix(frame, errorPrefix) {
		return
	}
	m, err := protocol.DecodeMessage(frame)
	if err != nil || (m.ID != r.id && m.ID != "") || (m.ID == "" && m.Code == protocol.CodeGone) {
		return // not ours; or "gone" for the document, after which the op's own answer follows
	}
	if m.Type == protocol.TypeAck {
		r.put(answer{version: m.Version})
		return
	}
	r.put(answer{err: &protocol.Error{Code: m.Code, Message: m.Message, Doc: m.Doc, ID: m.ID}})
}

func (r *catcher) sendError(e *protocol.Error) {
	if e.ID == "" && e.Code == protocol.CodeGone {
		return // the open of a deleted document: the op's own answer follows
	}
	if e.ID == r.id || e.ID == "" {
		r.m.refused(e.Code)
		r.put(answer{err: e})
	}
}

func (r *catcher) put(a answer) {
	select {
	case r.answer <- a:
	default:
	}
}

// errNoAnswer is the outcome of an op whose answer did not come in time.
var errNoAnswer = errors.New("no answer before the request ended")

// wait returns the op's outcome, or unavailable when ctx ends first.
func (r *catcher) wait(ctx context.Context, req protocol.Request) (int64, error) {
	select {
	case a := <-r.answer:
		if a.err != nil {
			return 0, a.err
		}
		return a.version, nil
	case <-ctx.Done():
		return 0, &protocol.Error{Code: protocol.CodeUnavailable, Doc: req.Doc, ID: req.ID,
			Message: fmt.Sprintf("%v (%v); the op's outcome is not known: resend it with the same id", errNoAnswer, ctx.Err())}
	}
}
