package postgres_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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

// TestLockLostStopsWrites: a Store that runs alone and whose session dies
// (its backend terminated, as by a network cut) refuses its next batches
// — checked in the batch's transaction, not in memory — until it retakes
// the lock; if another Store took the database meanwhile, it stays
// refused.
func TestLockLostStopsWrites(t *testing.T) {
	t.Parallel()
	url := pgtest.DB(t)
	ctx := context.Background()
	alone := openStore(t, url, postgres.Config{})
	if _, err := alone.Append(ctx, logtest.Ev("d", 0)); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// Terminate the session and take the lock before it comes back.
	var taken bool
	if err := conn.QueryRow(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND objsubid = 1
		AND ((classid::bigint << 32) | objid::bigint) = x'636f6c6c616203'::bigint
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&taken); err != nil || !taken {
		t.Fatalf("terminate the session: %v, %v", taken, err)
	}
	poll.Until(t, "the other connection to take the lock", func() bool {
		var ok bool
		err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(x'636f6c6c616203'::bigint)`).Scan(&ok)
		return err == nil && ok
	})
	if _, err := alone.Append(ctx, logtest.Ev("d", 1)); !errors.Is(err, eventlog.ErrUnavailable) {
		t.Fatalf("append after losing the lock = %v, want ErrUnavailable", err)
	}
	if err := alone.Health(ctx); !errors.Is(err, eventlog.ErrUnavailable) {
		t.Fatalf("health after losing the lock = %v", err)
	}
	// Released: the store retakes it and writes again.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock_all()`); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "writes after the lock is retaken", func() bool {
		_, err := alone.Append(ctx, logtest.Ev("d", 1))
		return err == nil
	})
}

// TestReadOnlyBesideAServer: a read-only Store opens beside one that has
// the database to itself, reads what it committed, and refuses writes.
func TestReadOnlyBesideAServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.DB(t)
	owner := openStore(t, url, postgres.Config{})
	if _, err := owner.Append(ctx, eventlog.Event{Doc: "d", Version: 0, OpID: "a:1", Op: []byte(`["x"]`)}); err != nil {
		t.Fatal(err)
	}
	ro := openStore(t, url, postgres.Config{ReadOnly: true})
	if evs, err := ro.Events(ctx, "d", 0, 0); err != nil || len(evs) != 1 || evs[0].OpID != "a:1" {
		t.Fatalf("read beside the owner: %+v, %v", evs, err)
	}
	if _, err := ro.Append(ctx, eventlog.Event{Doc: "d", Version: 1, OpID: "b:1", Op: []byte(`["y"]`)}); !errors.Is(err, eventlog.ErrReadOnly) {
		t.Fatalf("write through a read-only store: %v", err)
	}
	if err := ro.Health(ctx); err != nil {
		t.Fatalf("health of a read-only store: %v", err)
	}
}
