package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/feed"
	"github.com/collabedit/collab/hub"
)

// startRoutes serves routes() in process on a real hub and event log.
func startRoutes(t *testing.T) *httptest.Server {
	t.Helper()
	store, err := eventlog.Open(filepath.Join(t.TempDir(), "events.db"), eventlog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(store, hub.Config{})
	acc, err := newAccess(accessOptions{mode: "none"})
	if err != nil {
		t.Fatal(err)
	}
	handler, err := routes(h, store, []check{{"hub", h.Ready}, {"eventlog", store.Health}}, acc, prometheus.NewRegistry(), feed.New(store, feed.Config{}), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.Close(ctx)
		srv.Close()
		_ = store.Close()
	})
	return srv
}

// TestRoutesServeTheBrowserClient: the pages, the document list API with
// sizes recorded by the hub, and the WebSocket endpoint on one mux.
func TestRoutesServeTheBrowserClient(t *testing.T) {
	t.Parallel()
	srv := startRoutes(t)
	for path, want := range map[string]int{
		"/": 200, "/d/notes": 200, "/d/bad%20id": 404, "/editor.js": 200, "/style.css": 200,
		"/healthz": 200, "/api/docs": 200, "/metrics": 200,
	} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, res.StatusCode, want)
		}
	}

	// Two ops through the hub: "héllo 😀" (7 code points, 8 UTF-16
	// units, 11 bytes), then delete "h": 6 code points.
	ws := dialWS(t, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws")
	send := func(s string) {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	send(`{"type":"open","doc":"notes"}`)
	send(`{"type":"op","doc":"notes","version":0,"id":"t:1","op":["héllo 😀"]}`)
	send(`{"type":"op","doc":"notes","version":1,"id":"t:2","op":[-1]}`)
	for acks := 0; acks < 2; {
		m, err := readMsg(t, ws)
		if err != nil {
			t.Fatal(err)
		}
		switch m.Type {
		case "ack":
			acks++
		case "error":
			t.Fatalf("error %+v", m)
		}
	}

	res, err := http.Get(srv.URL + "/api/docs")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var list struct {
		Docs []struct {
			ID      string
			Version int64
			Size    *int64
			Link    string
		}
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if len(list.Docs) != 1 {
		t.Fatalf("docs = %s", body)
	}
	d := list.Docs[0]
	if d.ID != "notes" || d.Version != 2 || d.Size == nil || *d.Size != 6 || d.Link != "/d/notes" {
		t.Fatalf("doc = %s, want notes at version 2 with size 6", body)
	}
}
