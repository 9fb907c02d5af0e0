package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/collabedit/collab/client"
	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/eventlog/postgres"
	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/pgtest"
)

// TestRestartUnderLoad restarts PostgreSQL under a real hub taking ops
// from several clients: while it is down, commits fail and ops are
// answered unavailable (the clients resend them); once it is back the
// store resumes by itself, every op is in the log exactly once, and every
// client ends with the log's text.
func TestRestartUnderLoad(t *testing.T) {
	t.Parallel()
	pg := pgtest.Start(t)
	store := openStore(t, pg.DB(t), postgres.Config{ConnectTimeout: 500 * time.Millisecond, WriteTimeout: 2 * time.Second})
	h := hub.New(store, hub.Config{CommitTimeout: 2 * time.Second})
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Close(ctx); err != nil && !errors.Is(err, hub.ErrClosed) {
			t.Errorf("close hub: %v", err)
		}
		srv.Close()
	})
	url := "ws://" + strings.TrimPrefix(srv.URL, "http://")

	const clients = 4
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var docs []*client.Doc
	for i := range clients {
		c, err := client.Dial(ctx, client.Config{URL: url, ClientID: fmt.Sprintf("c%d", i),
			ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		d, err := c.Open(ctx, "doc")
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}

	// Each client appends unique tokens at the end of its text, one every
	// 5 ms, until stop: ~800 ops/s in all, before, during and after the
	// outage.
	stop := make(chan struct{})
	var typed [clients]atomic.Int64
	var wg sync.WaitGroup
	for i, d := range docs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				tok := fmt.Sprintf("[c%d.%d]", i, n)
				if err := d.Edit(func(text string) document.Op {
					return document.FromPatch(utf8.RuneCountInString(text), 0, tok)
				}); err != nil {
					t.Errorf("edit: %v", err)
					return
				}
				typed[i].Add(1)
			}
		}()
	}
	poll.Until(t, "ops committed before the outage", func() bool { return store.Stats().Events > 100 })
	pg.Stop()
	outage := time.Now()
	poll.Until(t, "commits failing during the outage", func() bool { return store.Stats().Failures > 0 })
	if err := store.Health(ctx); !errors.Is(err, eventlog.ErrUnavailable) {
		t.Errorf("health during the outage = %v, want ErrUnavailable", err)
	}
	refused := h.Stats().OpsRefused
	time.Sleep(2*time.Second - time.Since(outage)) // the outage itself: a 2 s restart, as an operator's
	pg.Start(t)
	back := store.Stats().Events
	poll.Until(t, "commits resuming after the restart", func() bool { return store.Stats().Events > back+100 })
	close(stop)
	wg.Wait()
	for _, d := range docs {
		if err := d.WaitSynced(ctx); err != nil {
			t.Fatalf("wait synced: %v", err)
		}
	}
	if refused == 0 {
		t.Errorf("no op was answered with an error during the outage")
	}

	evs, err := store.Events(ctx, "doc", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	text := document.NewText("")
	for _, e := range evs {
		var op document.Op
		if err := op.UnmarshalJSON(e.Op); err != nil {
			t.Fatal(err)
		}
		if err := text.Apply(op); err != nil {
			t.Fatalf("replay version %d: %v", e.Version, err)
		}
	}
	final := text.String()
	for i, d := range docs {
		if d.Text() != final || d.Version() != int64(len(evs)) {
			t.Errorf("client %d at version %d differs from the log at %d", i, d.Version(), len(evs))
		}
	}
	var total int64
	for i := range typed {
		for n := range typed[i].Load() {
			tok := fmt.Sprintf("[c%d.%d]", i, n)
			switch c := strings.Count(final, tok); {
			case c == 0:
				t.Errorf("op %s lost", tok)
			case c > 1:
				t.Errorf("op %s stored %d times", tok, c)
			}
		}
		total += typed[i].Load()
	}
	t.Logf("%d ops from %d clients, %d events in the log, %d ops refused during a %.1fs outage; store: %+v",
		total, clients, len(evs), refused, time.Since(outage).Seconds(), store.Stats())
}
