package query

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/internal/jsonhttp"
	"github.com/collabedit/collab/protocol"
)

// requestTimeout bounds one request, replay included.
const requestTimeout = 10 * time.Second

// apiError is an answer other than 200: a status and a message.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &apiError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &apiError{http.StatusNotFound, fmt.Sprintf(format, args...)}
}

// gone answers a deleted document's current state, or anything of a
// purged one.
func gone(format string, args ...any) error {
	return &apiError{http.StatusGone, fmt.Sprintf(format, args...)}
}

// errorBody is the body of every error answer.
type errorBody struct {
	Error string `json:"error"`
}

// ReadPosition says what a log-backed answer read: the document's version
// and the global sequence of the last event it includes (0 for none).
type ReadPosition struct {
	Version int64 `json:"version"`
	Seq     int64 `json:"seq"`
}

// fail answers err: an *apiError as it says, an unreadable store or read
// model 503, anything else 500.
func fail(w http.ResponseWriter, err error) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		jsonhttp.Write(w, ae.status, errorBody{ae.msg})
	case errors.Is(err, context.Canceled), errors.Is(err, eventlog.ErrUnavailable), errors.Is(err, eventlog.ErrClosed), errors.Is(err, context.DeadlineExceeded):
		jsonhttp.Write(w, http.StatusServiceUnavailable, errorBody{"the event log is unavailable, try again"})
	default:
		jsonhttp.Write(w, http.StatusInternalServerError, errorBody{"internal error: " + err.Error()})
	}
}

// readFailed maps an error of Reader.Read that fn did not produce: the
// read model is not serving (not built yet, its store unreadable), 503.
func readFailed(err error) error {
	var ae *apiError
	if errors.As(err, &ae) || errors.Is(err, context.Canceled) {
		return err
	}
	return &apiError{http.StatusServiceUnavailable, "the read model is unavailable, try again: " + err.Error()}
}

// allowed returns the request's document filter, or an error answer.
func (a *api) allowed(r *http.Request) (func(string) bool, error) {
	if a.access == nil {
		return func(string) bool { return true }, nil
	}
	allow, status, msg := a.access(r)
	if allow == nil {
		return nil, &apiError{status, msg}
	}
	return allow, nil
}

// docParam returns the request's {doc} if valid and readable.
func (a *api) docParam(r *http.Request) (string, error) {
	doc := r.PathValue("doc")
	if err := protocol.ValidateDocID(doc); err != nil {
		return "", badRequest("%v", err)
	}
	allow, err := a.allowed(r)
	if err != nil {
		return "", err
	}
	if !allow(doc) {
		return "", &apiError{http.StatusForbidden, "no read access to this document"}
	}
	return doc, nil
}

// handle runs fn with a bounded context and answers its result as JSON.
func handle(w http.ResponseWriter, r *http.Request, fn func(ctx context.Context) (any, error)) {
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	body, err := fn(ctx)
	if err != nil {
		fail(w, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, body)
}
