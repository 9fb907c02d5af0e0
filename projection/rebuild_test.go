package projection

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collabedit/collab/eventlog"
)

// tablesOf lists the projection's tables in the read-model database.
func tablesOf(t *testing.T, pr *Projector, name string) []string {
	t.Helper()
	var out []string
	err := pr.Read(context.Background(), name, func(ctx context.Context, tx *sql.Tx, _ Tables, _ Position) error {
		rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ? ESCAPE '\' ORDER BY name`, name+"\\_%")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				return err
			}
			out = append(out, n)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLiveRebuild rebuilds while a writer keeps appending and readers
// keep reading: every read answers, counts never go backwards, and after
// the swap the new generation equals the log.
func TestLiveRebuild(t *testing.T) {
	t.Parallel()
	s, dir := openLog(t, nil)
	appendN(t, s, 3000, "a", "b", "c")
	pr := newProjector(t, dir, s, Counts{})
	pr.BatchSize = 200 // several passes of rebuild beside the writer
	open(t, pr)
	caughtUp(t, pr, s, "stats")

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the writer: editors typing, about 2,000 events/s at most
		defer wg.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				appendN(t, s, 20, "a", "d")
			}
		}
	}()
	var reads, gens atomic.Int64
	var readErr atomic.Value
	go func() { // a reader that must never be refused
		defer wg.Done()
		last := int64(0)
		for {
			select {
			case <-stop:
				return
			default:
			}
			err := pr.Read(context.Background(), "stats", func(ctx context.Context, tx *sql.Tx, tb Tables, pos Position) error {
				c, err := DocCounts(ctx, tx, tb)
				if err != nil {
					return err
				}
				total := c["a"] + c["b"] + c["c"] + c["d"]
				if total < last {
					return fmt.Errorf("generation %d: %d events, after %d", tb.Generation, total, last)
				}
				last = total
				gens.Store(int64(tb.Generation))
				return nil
			})
			if err != nil {
				readErr.Store(err)
				return
			}
			reads.Add(1)
		}
	}()
	if err := pr.Rebuild(context.Background(), "stats"); err != nil {
		t.Fatal(err)
	}
	sawRebuilding := statsOf(pr, "stats").State == Rebuilding
	waitFor(t, "swap", func() bool { return statsOf(pr, "stats").Generation == 2 })
	waitFor(t, "a read of generation 2", func() bool { return gens.Load() == 2 || readErr.Load() != nil })
	close(stop)
	wg.Wait()
	if err := readErr.Load(); err != nil {
		t.Fatalf("read during rebuild: %v", err)
	}
	if reads.Load() == 0 || gens.Load() != 2 {
		t.Fatalf("%d reads, last generation %d", reads.Load(), gens.Load())
	}
	st := caughtUp(t, pr, s, "stats")
	if st.State != Running || !sawRebuilding && st.Generation != 2 {
		t.Fatalf("stats = %+v", st)
	}
	got, _ := readCounts(t, pr, "stats")
	sameCounts(t, got, logCounts(t, s, ""))
	if tbls := tablesOf(t, pr, "stats"); fmt.Sprint(tbls) != "[stats_authors_g2 stats_docs_g2]" {
		t.Fatalf("tables after swap: %v", tbls)
	}
}

// TestVersionChangeRebuildsOnOpen: a new Version of a projection is
// built beside the old generation, which keeps serving until the swap.
func TestVersionChangeRebuildsOnOpen(t *testing.T) {
	t.Parallel()
	s, dir := openLog(t, nil)
	appendN(t, s, 500, "a", "b")
	pr := newProjector(t, dir, s, Counts{})
	open(t, pr)
	caughtUp(t, pr, s, "stats")
	if err := pr.Close(); err != nil {
		t.Fatal(err)
	}
	appendN(t, s, 100, "c")

	gate := make(chan struct{})
	v2 := &hooked{name: "stats", version: 2, hook: func(ctx context.Context, _ int64, _ []eventlog.Event) error {
		select {
		case <-gate:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	pr2 := newProjector(t, dir, s, v2)
	pr2.BatchSize = 100
	open(t, pr2)
	st := statsOf(pr2, "stats")
	if st.State != Rebuilding || st.Generation != 1 || st.BuildGeneration != 2 {
		t.Fatalf("stats at open = %+v, want generation 1 serving, 2 building", st)
	}
	got, _ := readCounts(t, pr2, "stats")
	if got["a"] != 250 || got["c"] != 0 {
		t.Fatalf("old generation serves %v", got) // the new generation is gated; the old one stops at its version
	}
	close(gate)
	st = caughtUp(t, pr2, s, "stats")
	if st.Generation != 2 || st.Version != 2 {
		t.Fatalf("stats after swap = %+v", st)
	}
	got, _ = readCounts(t, pr2, "stats")
	sameCounts(t, got, logCounts(t, s, ""))
}
