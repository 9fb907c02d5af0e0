package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/collabedit/collab/client"
	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog/postgres"
	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/pgtest"
	"github.com/collabedit/collab/redistest"
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

// TestPostgresTwoHosts runs two server processes with their own data
// directories, sharing only PostgreSQL and Redis, as on two hosts: clients
// of each edit one document, and afterwards every client and the log
// agree, with each client's ops in it exactly once.
func TestPostgresTwoHosts(t *testing.T) {
	t.Parallel()
	url := pgtest.Start(t).DB(t)
	rd := redistest.Start(t)
	args := []string{"-store", url, "-redis-url", rd.URL(), "-lease-ttl", "1s", "-log-level", "warn", "-advertise-url", "auto"}
	procs := []*servertest.Server{
		servertest.Start(t, servertest.Options{Name: "a", Args: args}),
		servertest.Start(t, servertest.Options{Name: "b", Args: args}),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const clients, ops = 4, 40
	docs := make([]*client.Doc, clients)
	for i := range docs {
		c, err := client.Dial(ctx, client.Config{URL: procs[i%2].URL(), ClientID: fmt.Sprintf("c%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		if docs[i], err = c.Open(ctx, "shared"); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i, d := range docs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range ops {
				tok := fmt.Sprintf("[c%d.%d]", i, n)
				if err := d.Edit(func(text string) document.Op {
					return document.FromPatch(utf8.RuneCountInString(text), 0, tok)
				}); err != nil {
					t.Errorf("edit: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, d := range docs {
		if err := d.WaitSynced(ctx); err != nil {
			t.Fatal(err)
		}
	}
	log, err := postgres.Open(ctx, url, postgres.Config{Shared: true})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	head, err := log.Head(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "every client at the log's head", func() bool {
		for _, d := range docs {
			if d.Version() != head {
				return false
			}
		}
		return true
	})
	text := docs[0].Text()
	for i, d := range docs {
		if d.Text() != text {
			t.Errorf("client %d diverged", i)
		}
		for n := range ops {
			if c := strings.Count(text, fmt.Sprintf("[c%d.%d]", i, n)); c != 1 {
				t.Errorf("op c%d.%d appears %d times", i, n, c)
			}
		}
	}
}
