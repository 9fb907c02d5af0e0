package feed

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/protocol"
)

// Source is the log a feed follows; every eventlog.Log (SQLite, PostgreSQL) implements it.
type Source interface {
	// Since returns up to limit events with seq > after, in seq order.
	Since(ctx context.Context, after int64, limit int) ([]eventlog.Event, error)
}

// Access decides which documents a request may see: a filter (nil: every
// document), or a refusal with an HTTP status and a message.
type Access func(r *http.Request) (allow func(doc string) bool, status int, msg string)

// Config tunes a Handler. The zero value is usable.
type Config struct {
	Poll         time.Duration // how often a caught-up stream reads the log; 0 means 50ms
	Heartbeat    time.Duration // a comment line after this long without output; 0 means 15s
	Batch        int           // events per read and per flush; 0 means 256
	WriteTimeout time.Duration // a batch not written within this disconnects the client; 0 means 10s
	Access       Access        // nil: every request sees every document
}

// DefaultConfig returns the settings New uses for every zero field; the
// server's flags take their defaults from it, so each is written once.
func DefaultConfig() Config {
	return Config{Poll: 50 * time.Millisecond, Heartbeat: 15 * time.Second, Batch: 256, WriteTimeout: 10 * time.Second}
}

func (c *Config) setDefaults() {
	d := DefaultConfig()
	for _, f := range []struct{ p, v *time.Duration }{{&c.Poll, &d.Poll}, {&c.Heartbeat, &d.Heartbeat}, {&c.WriteTimeout, &d.WriteTimeout}} {
		if *f.p <= 0 {
			*f.p = *f.v
		}
	}
	if c.Batch <= 0 {
		c.Batch = d.Batch
	}
}

// Handler serves the change feed (see the package documentation).
type Handler struct {
	src       Source
	cfg       Config
	stop      chan struct{}
	closeOnce sync.Once
}

// New returns a Handler that streams src's events.
func New(src Source, cfg Config) *Handler {
	cfg.setDefaults()
	return &Handler{src: src, cfg: cfg, stop: make(chan struct{})}
}

// Close ends every stream (for a graceful shutdown: net/http waits for
// handlers, and a stream never ends on its own). Later requests get 503.
func (h *Handler) Close() {
	h.closeOnce.Do(func() { close(h.stop) })
}

// ServeHTTP streams the events after the requested position.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case <-h.stop:
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	default:
	}
	after, err := position(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	doc := r.URL.Query().Get("doc")
	if doc != "" {
		if err := protocol.ValidateDocID(doc); err != nil {
			http.Error(w, "doc: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	allow := func(string) bool { return true }
	if h.cfg.Access != nil {
		f, status, msg := h.cfg.Access(r)
		if status != 0 {
			http.Error(w, msg, status)
			return
		}
		if f != nil {
			allow = cached(f)
		}
	}
	s := &stream{h: h, w: w, rc: http.NewResponseController(w), ctx: r.Context(), after: after,
		allow: func(d string) bool { return (doc == "" || d == doc) && allow(d) }}
	s.run()
}

// position is the seq a request resumes after: Last-Event-ID, else
// ?from, else 0 (from the beginning).
func position(r *http.Request) (int64, error) {
	v := r.Header.Get("Last-Event-ID")
	name := "Last-Event-ID"
	if v == "" {
		v, name = r.URL.Query().Get("from"), "from"
	}
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, &badPosition{name: name, value: v}
	}
	return n, nil
}

// badPosition is a from or Last-Event-ID that is not a seq.
type badPosition struct{ name, value string }

func (e *badPosition) Error() string {
	return e.name + " " + strconv.Quote(e.value) + ": want a sequence number (an integer >= 0)"
}

// cached remembers allow's answer per document for one stream: an
// authorizer may ask a webhook.
func cached(allow func(string) bool) func(string) bool {
	seen := make(map[string]bool)
	return func(doc string) bool {
		ok, found := seen[doc]
		if !found {
			if len(seen) >= 4096 {
				clear(seen) // bounded memory on a log of many documents
			}
			ok = allow(doc)
			seen[doc] = ok
		}
		return ok
	}
}
