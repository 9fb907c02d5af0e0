package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/collabedit/collab/document"
)

// Client → server message types of protocol v1.
const (
	TypeOpen  = "open"
	TypeOp    = "op"
	TypeClose = "close"
	// TypePresence (extension) sets this connection's presence in a
	// document: display name, colour, and selection at a version.
	TypePresence = "presence"
	// TypePing (extension, §16) asks the server to answer "pong" at once:
	// an application-level heartbeat a client uses to notice a connection
	// that died without a close (half-open). It names no document.
	TypePing = "ping"
	// TypeAuth (extension, §18) presents a token: the first message on a
	// server that requires one, and again to refresh it. It names no
	// document.
	TypeAuth = "auth"
)

// MaxTokenLen is the longest token an auth message may carry, in bytes.
// Signed JWTs with a few dozen document grants are 0.5–2 KB.
const MaxTokenLen = 16 << 10

// MaxPingIDLen is the longest id a ping may carry; the pong echoes it.
const MaxPingIDLen = 128

// Limits on presence fields, so one peer cannot bloat every roster.
const (
	MaxNameLen    = 64
	MaxColorLen   = 32
	MaxSessionLen = 64
)

// MaxDocIDLen is the longest document id the contract allows.
const MaxDocIDLen = 128

// MaxOpIDLen is the longest op id, in bytes. The server keeps every id in
// the event log (UNIQUE(doc, op_id)), in each open document's id index and
// in every broadcast of the op, so an unbounded id let one 900 KB op cost
// 900 KB of disk and 900 KB per subscriber. Ids as clients make them,
// "<client-id>:<seq>", are 10 to 40 bytes; 128 leaves room and matches
// MaxDocIDLen.
const MaxOpIDLen = 128

// Request is a validated client message. Fields not used by its Type are
// zero.
type Request struct {
	Type       string
	Doc        string
	Version    int64 // base version of an op, or the version an open resumes from
	HasVersion bool  // open carried a version (a reconnecting client)
	ID         string
	Op         document.Op
	Peer       Peer // TypePresence: Session is "" when not given
	// Presence: an open asks for the roster and presence changes (an
	// extension; v1 clients that do not ask never see those messages).
	Presence bool
	// Route: an open accepts a "moved" answer naming the process that owns
	// the document (extension, §15); without it the open is always served.
	Route bool
	// Limits: an open asks for the server's limits, sent as a "limits"
	// message before the snapshot (extension, §17).
	Limits bool
	// Token: the token of an auth message.
	Token string
	// Lifecycle, on an op, makes it a lifecycle command (§19) with the
	// identity op. No frame sets it: DecodeRequest never does, and only
	// the server's HTTP API (hub.Hub.Lifecycle) and its forwarding
	// between processes build such requests.
	Lifecycle *Lifecycle
}

// wireRequest mirrors the JSON object. Pointers and raw messages let the
// decoder tell "missing" from "zero" and name the mistyped field.
type wireRequest struct {
	Type    *string         `json:"type"`
	Doc     *string         `json:"doc"`
	Version json.RawMessage `json:"version"`
	ID      *string         `json:"id"`
	Op      json.RawMessage `json:"op"`
	// presence
	Session   *string    `json:"session"`
	Name      *string    `json:"name"`
	Color     *string    `json:"color"`
	Selection *Selection `json:"selection"`
	Presence  *bool      `json:"presence"`
	Route     *bool      `json:"route"`
	Limits    *bool      `json:"limits"`
	Token     *string    `json:"token"`
}

// DecodeRequest parses one client frame. Every failure is an *Error with
// the code the contract prescribes, and Doc/ID filled in where they could be
// read, so the edge can answer without further mapping.
func DecodeRequest(data []byte) (Request, error) {
	if r, ok := scanRequest(data); ok {
		return r, nil
	}
	return decodeRequestJSON(data)
}

// decodeRequestJSON is the reference decoder: every refusal comes from it,
// and the fast path (scan_request.go) must agree with it on every frame
// it accepts.
func decodeRequestJSON(data []byte) (Request, error) {
	var w wireRequest
	if err := json.Unmarshal(data, &w); err != nil {
		return Request{}, decodeError(data, err)
	}
	if err := duplicateKey(data); err != nil {
		return Request{}, err
	}
	var r Request
	if w.Type == nil {
		return r, Errorf(CodeBadRequest, "missing field \"type\"")
	}
	r.Type = *w.Type
	switch r.Type {
	case TypeOpen, TypeOp, TypeClose, TypePresence:
	case TypePing:
		return r.decodePing(w)
	case TypeAuth:
		return r.decodeAuth(w)
	default:
		return r, Errorf(CodeBadRequest, "unknown type %q", r.Type)
	}
	if w.Doc == nil {
		return r, Errorf(CodeBadRequest, "missing field \"doc\"")
	}
	if err := ValidateDocID(*w.Doc); err != nil {
		return r, err
	}
	r.Doc = *w.Doc
	if w.ID != nil {
		if r.Type == TypeOp && len(*w.ID) > MaxOpIDLen {
			// Refused before r.ID is set, so the error does not echo it.
			return r, r.fail(CodeBadRequest, "op id is %d bytes, over the limit of %d", len(*w.ID), MaxOpIDLen)
		}
		r.ID = *w.ID
	}
	if err := r.decodeVersion(w.Version); err != nil {
		return r, err
	}
	if w.Presence != nil {
		r.Presence = *w.Presence
	}
	if w.Route != nil {
		r.Route = *w.Route
	}
	if w.Limits != nil {
		r.Limits = *w.Limits
	}
	switch r.Type {
	case TypeOp:
		return r, r.decodeOp(w)
	case TypePresence:
		return r, r.decodePresence(w)
	}
	return r, nil
}

// decodePing reads a ping: only its optional id counts; a doc or any
// other field is ignored, so Doc stays "".
func (r *Request) decodePing(w wireRequest) (Request, error) {
	if w.ID != nil {
		if len(*w.ID) > MaxPingIDLen {
			return *r, Errorf(CodeBadRequest, "ping id is %d bytes, over the limit of %d", len(*w.ID), MaxPingIDLen)
		}
		r.ID = *w.ID
	}
	return *r, nil
}

// decodeAuth reads an auth message: a token, and nothing else counts
// (like ping, it names no document).
func (r *Request) decodeAuth(w wireRequest) (Request, error) {
	switch {
	case w.Token == nil || *w.Token == "":
		return *r, Errorf(CodeBadRequest, "auth needs a \"token\"")
	case len(*w.Token) > MaxTokenLen:
		return *r, Errorf(CodeTooLarge, "token is %d bytes, over the limit of %d", len(*w.Token), MaxTokenLen)
	}
	r.Token = *w.Token
	return *r, nil
}

func (r *Request) decodePresence(w wireRequest) error {
	p := &r.Peer
	fields := []struct {
		name string
		src  *string
		dst  *string
		max  int
	}{{"session", w.Session, &p.Session, MaxSessionLen}, {"name", w.Name, &p.Name, MaxNameLen}, {"color", w.Color, &p.Color, MaxColorLen}}
	for _, f := range fields {
		if f.src == nil {
			continue
		}
		if n := utf8.RuneCountInString(*f.src); n > f.max {
			return r.fail(CodeTooLarge, "field %q has %d characters, over the limit of %d", f.name, n, f.max)
		}
		*f.dst = *f.src
	}
	if s := w.Selection; s != nil {
		if s.Anchor < 0 || s.Head < 0 {
			return r.fail(CodeBadRequest, "selection positions must not be negative")
		}
		if !r.HasVersion {
			return r.fail(CodeBadRequest, "a selection needs the \"version\" it refers to")
		}
		p.Selection = s
	}
	p.Version = r.Version
	return nil
}

func (r *Request) decodeVersion(raw json.RawMessage) error {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	v, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return r.fail(CodeBadRequest, "field \"version\" must be an integer")
	}
	if v < 0 {
		return r.fail(CodeBadVersion, "version %d is negative", v)
	}
	r.Version, r.HasVersion = v, true
	return nil
}

func (r *Request) decodeOp(w wireRequest) error {
	if w.ID == nil || *w.ID == "" {
		return r.fail(CodeBadRequest, "missing field \"id\"")
	}
	if !r.HasVersion {
		return r.fail(CodeBadRequest, "missing field \"version\"")
	}
	if len(w.Op) == 0 {
		return r.fail(CodeBadRequest, "missing field \"op\"")
	}
	if err := r.Op.UnmarshalJSON(w.Op); err != nil {
		return r.fail(CodeInvalidOp, "%s", err.Error())
	}
	return nil
}

func (r *Request) fail(code Code, format string, args ...any) *Error {
	e := Errorf(code, format, args...)
	e.Doc, e.ID = r.Doc, r.ID
	return e
}

// decodeError words encoding/json's complaint in protocol terms.
func decodeError(data []byte, err error) *Error {
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te) && te.Field == "":
		return Errorf(CodeBadRequest, "message must be a JSON object")
	case errors.As(err, &te):
		return Errorf(CodeBadRequest, "field %q must not be a %s", te.Field, te.Value)
	case len(bytes.TrimSpace(data)) == 0:
		return Errorf(CodeBadRequest, "empty message")
	default:
		return Errorf(CodeBadRequest, "message is not valid JSON: %s", err.Error())
	}
}

// ValidateDocID checks the contract's ^[A-Za-z0-9._-]{1,128}$, less the
// ids "." and "..": a browser removes them from a URL path as dot
// segments (/d/.. is /), so such a document could not be opened at
// /d/<name>, and wherever an id becomes a path they name a directory.
func ValidateDocID(id string) *Error {
	if id == "." || id == ".." {
		return Errorf(CodeBadRequest, "doc id %q is not allowed: \".\" and \"..\" alone are path segments, not names", id)
	}
	if id == "" || len(id) > MaxDocIDLen {
		return Errorf(CodeBadRequest, "doc id must be 1 to %d characters of A-Z a-z 0-9 . _ -", MaxDocIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return Errorf(CodeBadRequest, "doc id has a character outside A-Z a-z 0-9 . _ -")
		}
	}
	return nil
}
