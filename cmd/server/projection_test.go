package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	_ "github.com/mattn/go-sqlite3"

	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/protocol"
	"github.com/collabedit/collab/servertest"
)

// TestProjectionResumesAfterSIGKILL pipelines ops, kills the server with
// SIGKILL while the projector follows the log, restarts it and checks that
// the built-in stats read model counts every stored event exactly once.
func TestProjectionResumesAfterSIGKILL(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Args: []string{"-rate", "1e9", "-projection-poll", "5ms", "-projection-batch", "50"}})
	ws := dialWS(t, srv.URL())
	ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"open","doc":"p"}`))
	if m, err := readMsg(t, ws); err != nil || m.Type != "snapshot" {
		t.Fatalf("open: %+v %v", m, err)
	}
	const total = 3000
	go func() {
		for i := 0; i < total; i++ {
			frame := fmt.Sprintf(`{"type":"op","doc":"p","version":%d,"id":"w:%d","op":[%d,"x"]}`, i, i, i)
			if i == 0 {
				frame = `{"type":"op","doc":"p","version":0,"id":"w:0","op":["x"]}`
			}
			if ws.WriteMessage(websocket.TextMessage, []byte(frame)) != nil {
				return
			}
		}
	}()
	for acks := 0; acks < 500; {
		m, err := readMsg(t, ws)
		if err != nil || m.Type != "ack" {
			t.Fatalf("waiting for acks: %+v %v", m, err)
		}
		acks++
	}
	srv.Kill()
	srv.Restart()
	waitCaughtUp(t, srv)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	stored, lastSeq := logTotals(t, filepath.Join(srv.Dir(), "events.db"))
	counted, checkpoint := statsTotals(t, filepath.Join(srv.Dir(), "readmodels.db"))
	if counted != stored || checkpoint != lastSeq {
		t.Fatalf("stats projection counted %d events up to seq %d; the log has %d up to seq %d", counted, checkpoint, stored, lastSeq)
	}
	t.Logf("%d events stored, counted once each after SIGKILL", stored)
}

// waitCaughtUp waits for the stats projection's lag to reach 0 with the
// log's events all applied.
func waitCaughtUp(t *testing.T, srv *servertest.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var m map[string]float64
	ok := poll.Wait(ctx, func() bool {
		m = srv.Metrics(t)
		lag, found := m[`collab_projection_lag_events{projection="stats"}`]
		return found && lag == 0
	})
	if !ok {
		t.Fatalf("stats projection not caught up: lag %v", m[`collab_projection_lag_events{projection="stats"}`])
	}
}

func openSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func logTotals(t *testing.T, path string) (n, last int64) {
	t.Helper()
	if err := openSQLite(t, path).QueryRow(`SELECT count(*), coalesce(max(seq), 0) FROM events`).Scan(&n, &last); err != nil {
		t.Fatal(err)
	}
	return n, last
}

func statsTotals(t *testing.T, path string) (n, seq int64) {
	t.Helper()
	db := openSQLite(t, path)
	var gen int
	if err := db.QueryRow(`SELECT generation, seq FROM projector_checkpoints WHERE name = 'stats' AND serving = 1`).Scan(&gen, &seq); err != nil {
		t.Fatal(err)
	}
	q := fmt.Sprintf(`SELECT coalesce(sum(events), 0) FROM stats_docs_g%d`, gen)
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	var authors int64
	if err := db.QueryRow(strings.Replace(q, "docs", "authors", 1)).Scan(&authors); err != nil || authors != n {
		t.Fatalf("authors total %d (%v), docs total %d", authors, err, n)
	}
	return n, seq
}

// TestAdminRebuildAndReadiness: POST /admin/rebuild rebuilds the stats
// read model live; /readyz reports the projections.
func TestAdminRebuildAndReadiness(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Args: []string{"-admin-addr", "127.0.0.1:0"}})
	if body := waitStatus(t, "http://"+srv.Addr()+"/readyz", http.StatusOK); !strings.Contains(body, "projections: ok") {
		t.Fatalf("/readyz: %q", body)
	}
	admin := "http://" + srv.AdminAddr() + "/admin/rebuild?projection="
	for name, want := range map[string]int{"stats": http.StatusAccepted, "nope": http.StatusNotFound} {
		res, err := http.Post(admin+name, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("rebuild %s: %d, want %d", name, res.StatusCode, want)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if !poll.Wait(ctx, func() bool { return srv.Metrics(t)[`collab_projection_rebuilding{projection="stats"}`] == 0 }) {
		t.Fatal("rebuild did not finish")
	}
}

// TestWithoutReadModels: a process run with -read-models=false keeps no
// readmodels.db, is ready, serves sockets and the log-backed query routes,
// and answers the read-model routes 503 saying why.
func TestWithoutReadModels(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Args: []string{"-read-models=false"}})
	ws := dialWS(t, srv.URL())
	for _, frame := range []string{`{"type":"open","doc":"d"}`, `{"type":"op","doc":"d","version":0,"id":"c:1","op":["hi"]}`} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
			t.Fatal(err)
		}
	}
	expectMsg(t, ws, protocol.TypeAck)
	if text, v := docText(t, srv.Addr(), "d"); text != "hi" || v != 1 {
		t.Fatalf("text from the log: %q at %d", text, v)
	}
	for _, path := range []string{"/api/v1/docs", "/api/v1/search?q=hi", "/api/v1/docs/d/entry"} {
		if status, body := call(t, http.MethodGet, "http://"+srv.Addr()+path, ""); status != http.StatusServiceUnavailable || !strings.Contains(body, "-read-models=false") {
			t.Fatalf("GET %s: %d %s", path, status, body)
		}
	}
	if status, body := call(t, http.MethodGet, "http://"+srv.Addr()+"/readyz", ""); status != http.StatusOK {
		t.Fatalf("readyz: %d %s", status, body)
	}
	if _, err := os.Stat(filepath.Join(srv.Dir(), "readmodels.db")); !os.IsNotExist(err) {
		t.Fatalf("readmodels.db exists (%v)", err)
	}
}
