package postgres_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/eventlog/logtest"
	"github.com/collabedit/collab/eventlog/postgres"
	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/pgtest"
)

// TestProcessLock: without Shared a Store has the database to itself; a
// second one is refused with *LockedError whatever its mode, and the lock
// goes with the Store that held it.
func TestProcessLock(t *testing.T) {
	t.Parallel()
	url := pgtest.DB(t)
	first, err := postgres.Open(context.Background(), url, postgres.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, shared := range []bool{false, true} {
		_, err := postgres.Open(context.Background(), url, postgres.Config{Shared: shared})
		var le *eventlog.LockedError
		if !errors.As(err, &le) || !errors.Is(err, eventlog.ErrLocked) || le.Shared != shared || errors.Is(err, eventlog.ErrUnavailable) {
			t.Fatalf("second open (shared %v) = %v, want *LockedError", shared, err)
		}
	}
	_ = first.Close()
	openStore(t, url, postgres.Config{Shared: true})
	openStore(t, url, postgres.Config{Shared: true})
	if _, err := postgres.Open(context.Background(), url, postgres.Config{}); !errors.Is(err, eventlog.ErrLocked) {
		t.Fatalf("exclusive open beside shared ones = %v, want ErrLocked", err)
	}
}

// TestConcurrentMigration: Stores opening a fresh database at once all
// succeed; the advisory lock lets one migrate and the others find it done.
func TestConcurrentMigration(t *testing.T) {
	t.Parallel()
	url := pgtest.DB(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(context.Background(), url, postgres.Config{Shared: true})
			if err != nil {
				t.Errorf("open: %v", err)
				return
			}
			_ = s.Close()
		}()
	}
	wg.Wait()
}

// TestOnCommitAcrossProcesses: a Store learns of another Store's commits
// through LISTEN/NOTIFY, as a projector in one process follows the
// commits of all.
func TestOnCommitAcrossProcesses(t *testing.T) {
	t.Parallel()
	url := pgtest.DB(t)
	var calls atomic.Int64
	openStore(t, url, postgres.Config{Shared: true, OnCommit: func() { calls.Add(1) }})
	writer := openStore(t, url, postgres.Config{Shared: true})
	if _, err := writer.Append(context.Background(), logtest.Ev("x", 0)); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "the other store's OnCommit", func() bool { return calls.Load() > 0 })
}

// TestDownIsUnavailable: with PostgreSQL stopped, appends and reads are
// answered within their timeouts with ErrUnavailable, never hang; after a
// restart the same Store carries on by itself.
func TestDownIsUnavailable(t *testing.T) {
	t.Parallel()
	pg := pgtest.Start(t)
	s := openStore(t, pg.DB(t), postgres.Config{ConnectTimeout: 300 * time.Millisecond,
		WriteTimeout: time.Second, ReadTimeout: time.Second})
	ctx := context.Background()
	if _, err := s.Append(ctx, logtest.Ev("d", 0)); err != nil {
		t.Fatal(err)
	}
	pg.Stop()
	start := time.Now()
	if _, err := s.Append(ctx, logtest.Ev("d", 1)); !errors.Is(err, eventlog.ErrUnavailable) {
		t.Fatalf("append while down = %v, want ErrUnavailable", err)
	}
	if _, err := s.Events(ctx, "d", 0, 0); !errors.Is(err, eventlog.ErrUnavailable) {
		t.Fatalf("read while down = %v, want ErrUnavailable", err)
	}
	if err := s.Health(ctx); !errors.Is(err, eventlog.ErrUnavailable) {
		t.Fatalf("health while down = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("answers while down took %v", d)
	}
	pg.Start(t)
	poll.Until(t, "an append after the restart", func() bool {
		_, err := s.Append(ctx, logtest.Ev("d", 1))
		return err == nil || errors.Is(err, eventlog.ErrDuplicate)
	})
	poll.Until(t, "health after the restart", func() bool { return s.Health(ctx) == nil })
}
