package hub

import (
	"bytes"
	"errors"
	"io"
	"net/http"

	"github.com/collabedit/collab/internal/jsonhttp"
	"github.com/collabedit/collab/protocol"
)

// commandAPI serves the HTTP command endpoints (CommandRoutes): each
// request is authenticated by the gate and submitted as the socket's
// command would be, on the request's goroutine.
type commandAPI struct{ h *Hub }

// CommandRoutes adds the HTTP command endpoints (docs/api.md) to mux:
//
//	POST   /api/v1/docs/{doc}/ops     {"version": N, "id": "op-id", "op": [...]} → {"ack":{"version":V}}
//	POST   /api/v1/docs/{doc}/rename  {"title": "…", "id": "…"}               → {"ack":{"version":V}}
//	DELETE /api/v1/docs/{doc}[?id=…]                                        → {"ack":{"version":V}}
//	POST   /api/v1/docs/{doc}/purge[?id=…]                                  → {"purged":true}
//
// A refusal is {"error":{"code","message"}} with the status of StatusOf.
// The caller is authenticated as by Authenticate. An op's body is
// validated as the socket's op message, with the document from the path,
// and submitted through Submit; the others go through Lifecycle and Purge,
// for owners only. id is the idempotency key (a resend is answered with
// the original version); without one a lifecycle command gets one made
// up, and a resend may then rename twice, which is harmless.
func (h *Hub) CommandRoutes(mux *http.ServeMux) {
	a := commandAPI{h}
	mux.HandleFunc("POST /api/v1/docs/{doc}/ops", a.serveOp)
	mux.HandleFunc("POST /api/v1/docs/{doc}/rename", a.serveRename)
	mux.HandleFunc("DELETE /api/v1/docs/{doc}", a.serveDelete)
	mux.HandleFunc("POST /api/v1/docs/{doc}/purge", a.servePurge)
}

func (a commandAPI) serveOp(w http.ResponseWriter, r *http.Request) {
	doc := r.PathValue("doc")
	by, ok := a.submitter(w, r, doc)
	if !ok {
		return
	}
	req, perr := a.readCommand(w, r, doc)
	if perr != nil {
		writeCommandError(w, perr)
		return
	}
	v, err := a.h.Submit(r.Context(), req, by)
	var pe *protocol.Error
	switch {
	case errors.As(err, &pe):
		writeCommandError(w, pe)
	case err != nil:
		writeCommandError(w, &protocol.Error{Code: protocol.CodeInternal, Doc: doc, Message: err.Error()})
	default:
		jsonhttp.Write(w, http.StatusOK, map[string]any{"ack": map[string]int64{"version": v}})
	}
}

// submitter authenticates an HTTP command's caller, answering the
// refusal itself when it returns false.
func (a commandAPI) submitter(w http.ResponseWriter, r *http.Request, doc string) (Submitter, bool) {
	id, token, status, err := a.h.gate.authenticate(r)
	if err != nil {
		code := protocol.CodeUnauth
		if status == http.StatusServiceUnavailable {
			code = protocol.CodeUnavailable
		}
		writeCommandError(w, &protocol.Error{Code: code, Doc: doc, Message: "token refused: " + reason(err)})
		return Submitter{}, false
	}
	by := Submitter{Identity: id, Token: token}
	by.addr, by.Remote = a.h.gate.clientOf(r)
	return by, true
}

// readCommand reads the body, at most Config.MaxMessageBytes, and decodes
// it as the socket's op message {"type":"op","doc":doc,...body}.
func (a commandAPI) readCommand(w http.ResponseWriter, r *http.Request, doc string) (protocol.Request, *protocol.Error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.h.cfg.MaxMessageBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return protocol.Request{}, protocol.Errorf(protocol.CodeTooLarge, "body over the limit of %d bytes", a.h.cfg.MaxMessageBytes)
	case err != nil:
		return protocol.Request{}, protocol.Errorf(protocol.CodeBadRequest, "read body: %v", err)
	}
	body = bytes.TrimSpace(body)
	if len(body) < 2 || body[0] != '{' {
		return protocol.Request{}, protocol.Errorf(protocol.CodeBadRequest, `the body must be a JSON object {"version","id","op"}`)
	}
	frame := append([]byte(`{"type":"op","doc":`), protocol.AppendString(nil, doc)...)
	if rest := bytes.TrimSpace(body[1:]); len(rest) > 0 && rest[0] != '}' {
		frame = append(frame, ',')
	}
	frame = append(frame, body[1:]...)
	req, err := protocol.DecodeRequest(frame)
	var pe *protocol.Error
	switch {
	case errors.As(err, &pe):
		return req, pe
	case err != nil:
		return req, protocol.Errorf(protocol.CodeBadRequest, "%v", err)
	}
	return req, nil
}

// StatusOf is the HTTP status of a protocol error code.
func StatusOf(code protocol.Code) int {
	switch code {
	case protocol.CodeBadRequest, protocol.CodeInvalidOp, protocol.CodeBadVersion, protocol.CodeNotOpen:
		return http.StatusBadRequest
	case protocol.CodeUnauth:
		return http.StatusUnauthorized
	case protocol.CodeForbidden:
		return http.StatusForbidden
	case protocol.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case protocol.CodeRateLimited:
		return http.StatusTooManyRequests
	case protocol.CodeUnavailable:
		return http.StatusServiceUnavailable
	case protocol.CodeGone:
		return http.StatusGone
	}
	return http.StatusInternalServerError
}

func writeCommandError(w http.ResponseWriter, e *protocol.Error) {
	if e.Code == protocol.CodeUnauth {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	jsonhttp.Write(w, StatusOf(e.Code), map[string]any{"error": map[string]string{"code": string(e.Code), "message": e.Message}})
}
