package hub

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/collabedit/collab/internal/jsonhttp"
	"github.com/collabedit/collab/protocol"
)

// maxRenameBody bounds a rename's body: a title of eventlog.MaxTitle
// bytes, escaped, and an op id fit in 4 KiB.
const maxRenameBody = 4 << 10

func (a commandAPI) serveRename(w http.ResponseWriter, r *http.Request) {
	doc := r.PathValue("doc")
	by, ok := a.submitter(w, r, doc)
	if !ok {
		return
	}
	var body struct {
		Title *string `json:"title"`
		ID    string  `json:"id"`
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRenameBody))
	if err == nil {
		err = json.Unmarshal(data, &body)
	}
	if err != nil || body.Title == nil {
		writeCommandError(w, &protocol.Error{Code: protocol.CodeBadRequest, Doc: doc, Message: `the body must be {"title": "…"}`})
		return
	}
	a.answerLifecycle(w, r, doc, lifecycleID(body.ID), protocol.Lifecycle{Kind: protocol.LifecycleRename, Title: *body.Title}, by)
}

func (a commandAPI) serveDelete(w http.ResponseWriter, r *http.Request) {
	doc := r.PathValue("doc")
	by, ok := a.submitter(w, r, doc)
	if !ok {
		return
	}
	a.answerLifecycle(w, r, doc, lifecycleID(r.URL.Query().Get("id")), protocol.Lifecycle{Kind: protocol.LifecycleDelete}, by)
}

func (a commandAPI) answerLifecycle(w http.ResponseWriter, r *http.Request, doc, id string, life protocol.Lifecycle, by Submitter) {
	v, err := a.h.Lifecycle(r.Context(), doc, id, life, by)
	if err != nil {
		writeCommandError(w, asProtocolError(doc, err))
		return
	}
	jsonhttp.Write(w, http.StatusOK, map[string]any{"ack": map[string]int64{"version": v}})
}

func (a commandAPI) servePurge(w http.ResponseWriter, r *http.Request) {
	doc := r.PathValue("doc")
	by, ok := a.submitter(w, r, doc)
	if !ok {
		return
	}
	err := a.h.Purge(r.Context(), doc, lifecycleID(r.URL.Query().Get("id")), by)
	if errors.Is(err, ErrNotDeleted) {
		writeCommandError(w, &protocol.Error{Code: protocol.CodeBadRequest, Doc: doc, Message: "only a deleted document can be purged: delete it first"})
		return
	}
	if err != nil {
		writeCommandError(w, asProtocolError(doc, err))
		return
	}
	jsonhttp.Write(w, http.StatusOK, map[string]bool{"purged": true})
}

// asProtocolError maps a command's error to its wire form: a refusal as
// it is, a storage failure as unavailable.
func asProtocolError(doc string, err error) *protocol.Error {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return pe
	}
	return &protocol.Error{Code: protocol.CodeUnavailable, Doc: doc, Message: err.Error()}
}

var (
	lifecycleSeq atomic.Uint64
	// startNanos tells ids made up by processes started at different
	// times apart, since the counter starts at 0 in each.
	startNanos = time.Now().UnixNano()
)

// lifecycleID is id, or a new one unique to this process when empty.
func lifecycleID(id string) string {
	if id != "" {
		return id
	}
	return "life-" + strconv.FormatInt(startNanos, 36) + ":" + strconv.FormatUint(lifecycleSeq.Add(1), 36)
}
