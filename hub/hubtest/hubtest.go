// Package hubtest runs a real hub for tests, as net/http/httptest runs a
// real HTTP server: a hub on a real SQLite event log in the test's temporary
// directory, served on a loopback port, torn down when the test ends.
// Nothing is mocked.
package hubtest

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/hub"
)

// Server is a running hub with its store.
type Server struct {
	URL   string // ws://127.0.0.1:port
	Hub   *hub.Hub
	Store *eventlog.Store
}

// Start runs a hub configured with cfg and registers its shutdown (hub,
// then HTTP server, then store) with tb.Cleanup.
func Start(tb testing.TB, cfg hub.Config) *Server {
	tb.Helper()
	return StartAt(tb, filepath.Join(tb.TempDir(), "events.db"), cfg)
}

// StartAt is Start with the event log at path, so that several hubs can
// share one log file as several server processes do. With cfg.Directory
// set and cfg.AdvertiseURL empty, the hub advertises its own URL.
func StartAt(tb testing.TB, path string, cfg hub.Config) *Server {
	tb.Helper()
	return StartStore(tb, path, eventlog.Config{}, cfg)
}

// StartStore is StartAt with the event log's settings too.
func StartStore(tb testing.TB, path string, scfg eventlog.Config, cfg hub.Config) *Server {
	tb.Helper()
	store, err := eventlog.Open(path, scfg)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	// Routing needs the URL in the config: listen first, then build the
	// hub, then serve.
	srv := httptest.NewUnstartedServer(nil)
	url := "ws://" + srv.Listener.Addr().String()
	if cfg.Directory != nil && cfg.AdvertiseURL == "" {
		cfg.AdvertiseURL = url
	}
	h := hub.New(store, cfg)
	srv.Config.Handler = h
	srv.Start()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Close(ctx); err != nil && !errors.Is(err, hub.ErrClosed) {
			tb.Errorf("close hub: %v", err)
		}
		srv.Close()
		if err := store.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	return &Server{URL: url, Hub: h, Store: store}
}

// Head returns the version the event log holds for doc.
func (s *Server) Head(tb testing.TB, doc string) int64 {
	tb.Helper()
	v, err := s.Store.Head(context.Background(), doc)
	if err != nil {
		tb.Fatalf("head %s: %v", doc, err)
	}
	return v
}
