package main

import (
	"strings"
	"testing"

	"github.com/collabedit/collab/pgtest"
	"github.com/collabedit/collab/servertest"
)

// TestPostgresStoreInUse: a server on a PostgreSQL log without -redis-url
// has it to itself: a second one, with its own data directory, exits at
// once saying why, and so does one with -redis-url beside it.
func TestPostgresStoreInUse(t *testing.T) {
	t.Parallel()
	url := pgtest.Start(t).DB(t)
	first := servertest.Start(t, servertest.Options{Name: "first", Args: []string{"-store", url}})
	for _, extra := range [][]string{nil, {"-redis-url", "redis://127.0.0.1:1"}} {
		code, logs := runToExit(t, t.TempDir(), append([]string{"-store", url}, extra...)...)
		want := "to serve one PostgreSQL log from several processes, start every one with -redis-url"
		if code == 0 || !strings.Contains(logs, want) {
			t.Fatalf("second server (%v) exited %d, logging:\n%s\nwant a non-zero exit and %q", extra, code, logs, want)
		}
	}
	if !first.Running() {
		t.Fatalf("the first server stopped: %v", first.Wait(0))
	}
}

func TestStoreFlagRefusesOtherURLs(t *testing.T) {
	t.Parallel()
	code, logs := runToExit(t, t.TempDir(), "-store", "mysql://db/collab")
	if code == 0 || !strings.Contains(logs, "want empty (SQLite in the data directory) or a postgres:// URL") {
		t.Fatalf("exited %d, logging:\n%s", code, logs)
	}
}
