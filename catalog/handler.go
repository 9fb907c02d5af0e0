package catalog

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/internal/jsonhttp"
)

// listTimeout bounds one list request. The scan itself takes well under a
// millisecond; the read pool's busy timeout (5 s) is the only way to be
// slow, and a start page should rather fail fast and be retried.
const listTimeout = 3 * time.Second

// response is the body of GET /api/docs.
type response struct {
	Docs []Entry `json:"docs"`
}

type errorBody struct {
	Error string `json:"error"`
}

// ServeHTTP answers GET /api/docs[?limit=N] with {"docs":[Entry...]},
// most recently changed first. A malformed limit gets 400; an unreadable
// event log 503, so load balancers and the page retry elsewhere or later.
func (c *Catalog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	limit := 0
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			jsonhttp.Write(w, http.StatusBadRequest, errorBody{"limit must be a positive integer"})
			return
		}
		limit = n
	}
	var allow func(string) bool
	if c.Access != nil {
		var status int
		var msg string
		if allow, status, msg = c.Access(r); allow == nil {
			jsonhttp.Write(w, status, errorBody{msg})
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), listTimeout)
	defer cancel()
	docs, err := c.ListVisible(ctx, limit, allow)
	switch {
	case errors.Is(err, eventlog.ErrUnavailable), errors.Is(err, eventlog.ErrClosed), errors.Is(err, context.DeadlineExceeded):
		jsonhttp.Write(w, http.StatusServiceUnavailable, errorBody{"the document list is unavailable, try again"})
		return
	case err != nil:
		jsonhttp.Write(w, http.StatusInternalServerError, errorBody{"the document list could not be read"})
		return
	}
	jsonhttp.Write(w, http.StatusOK, response{Docs: docs})
}
