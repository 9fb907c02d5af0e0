package eventlog

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestHealthOpenAndClosed(t *testing.T) {
	t.Parallel()
	s, err := Open(tempDB(t), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Health(context.Background()); err != nil {
		t.Fatalf("health of a fresh store: %v", err)
	}
	mustAppend(t, s, ev("h", 0))
	if st := s.Stats(); st.LastCommit.IsZero() || time.Since(st.LastCommit) > time.Minute || st.BatchAge != 0 {
		t.Fatalf("stats %+v: want the last commit just now and an idle writer", st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Health(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("health after Close: %v, want ErrClosed", err)
	}
}

// TestHealthReportsFailedWrite: a transaction that failed (another
// connection held SQLite's write lock past the busy timeout) makes the
// store unhealthy, with the cause, until a transaction commits.
func TestHealthReportsFailedWrite(t *testing.T) {
	t.Parallel()
	s := openTest(t, tempDB(t), Config{BusyTimeout: 50 * time.Millisecond})
	ctx := context.Background()
	release := holdWriteLock(t, s.path())
	if _, err := s.Append(ctx, ev("h", 0)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("append under a foreign lock: %v", err)
	}
	release()
	err := s.Health(ctx)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "database is locked") {
		t.Fatalf("health after a failed transaction: %v, want it reported with its cause", err)
	}
	mustAppend(t, s, ev("h", 0))
	if err := s.Health(ctx); err != nil {
		t.Fatalf("health after a commit: %v", err)
	}
}

// TestHealthForgetsOldFailure: a failed transaction is reported for
// StallAfter, not until the next write succeeds, which an instance taken
// out of its load balancer by the report would never get. Not parallel:
// the failure must still be reported well within StallAfter.
func TestHealthForgetsOldFailure(t *testing.T) {
	const stall = 300 * time.Millisecond
	s := openTest(t, tempDB(t), Config{BusyTimeout: 50 * time.Millisecond, StallAfter: stall})
	ctx := context.Background()
	release := holdWriteLock(t, s.path())
	if _, err := s.Append(ctx, ev("h", 0)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("append under a foreign lock: %v", err)
	}
	release()
	if err := s.Health(ctx); err == nil {
		t.Fatal("healthy right after a failed transaction")
	}
	time.Sleep(stall + 50*time.Millisecond) // StallAfter passes, on purpose
	if err := s.Health(ctx); err != nil {
		t.Fatalf("health %v after the failure, with nothing written since: %v", stall, err)
	}
}

// TestHealthBoundedByContext: with every read connection taken, the read
// cannot start; Health returns when its context ends, and the probe that
// was waiting finishes once a connection is free.
func TestHealthBoundedByContext(t *testing.T) {
	t.Parallel()
	s := openTest(t, tempDB(t), Config{})
	ctx := context.Background()
	var held []*sql.Conn
	for range s.rdb.Stats().MaxOpenConnections {
		c, err := s.rdb.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	hctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Health(hctx)
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Health took %v with a 200ms context", took)
	}
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("health with no read connection: %v, want ErrUnavailable and the deadline", err)
	}
	for _, c := range held {
		c.Close()
	}
	if err := s.Health(ctx); err != nil {
		t.Fatalf("health once connections are free: %v", err)
	}
}
