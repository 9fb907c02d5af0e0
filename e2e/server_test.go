package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabedit/collab/catalog"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/static"
)

// server is the collaborative editing server, in process: the same
// handlers cmd/server mounts (the WebSocket hub, the document list API,
// the browser client) on a real SQLite event log in a temporary directory.
type server struct {
	addr  string // host:port of the HTTP server
	store *eventlog.Store
}

func startServer(t *testing.T) *server {
	t.Helper()
	return startServerWith(t, hub.Config{})
}

// startServerWith is startServer with the hub configured by cfg.
func startServerWith(t *testing.T, cfg hub.Config) *server {
	t.Helper()
	store, err := eventlog.Open(filepath.Join(t.TempDir(), "events.db"), eventlog.Config{})
	if err != nil {
		t.Fatalf("open event log: %v", err)
	}
	h := hub.New(store, cfg)
	web, err := static.NewHandler()
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /ws", h)
	mux.Handle("GET /api/docs", catalog.New(store))
	mux.Handle("GET /", web)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Close(ctx); err != nil && !errors.Is(err, hub.ErrClosed) {
			t.Errorf("close hub: %v", err)
		}
		srv.Close()
		if err := store.Close(); err != nil {
			t.Errorf("close event log: %v", err)
		}
	})
	return &server{addr: strings.TrimPrefix(srv.URL, "http://"), store: store}
}

// text reads doc from the server as a new client would: open, snapshot.
func (s *server) text(t *testing.T, doc string) (string, int64) {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+s.addr+"/ws", nil)
	if err != nil {
		t.Fatalf("dial server: %v", err)
	}
	defer ws.Close()
	open, _ := json.Marshal(map[string]string{"type": "open", "doc": doc})
	if err := ws.WriteMessage(websocket.TextMessage, open); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("read snapshot of %s: %v", doc, err)
		}
		var m struct {
			Type    string
			Text    string
			Version int64
		}
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		if m.Type == "snapshot" {
			return m.Text, m.Version
		}
	}
}

// seed writes text into the empty document doc, as another client would.
func (s *server) seed(t *testing.T, doc, text string) {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+s.addr+"/ws", nil)
	if err != nil {
		t.Fatalf("dial server: %v", err)
	}
	defer ws.Close()
	for _, m := range []any{
		map[string]any{"type": "open", "doc": doc},
		map[string]any{"type": "op", "doc": doc, "version": 0, "id": "seed:1", "op": []any{text}},
	} {
		if err := ws.WriteJSON(m); err != nil {
			t.Fatal(err)
		}
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var m struct{ Type, Code, Message string }
		if err := ws.ReadJSON(&m); err != nil {
			t.Fatalf("seed %s: %v", doc, err)
		}
		switch m.Type {
		case "ack":
			return
		case "error":
			t.Fatalf("seed %s: %s %s", doc, m.Code, m.Message)
		}
	}
}
