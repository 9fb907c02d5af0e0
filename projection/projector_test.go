package projection

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collabedit/collab/eventlog"
)

func TestCatchUpReadAndPosition(t *testing.T) {
	t.Parallel()
	s, dir := openLog(t, nil)
	appendN(t, s, 2500, "a", "b", "c", "d", "e")
	pr := newProjector(t, dir, s, Counts{})
	open(t, pr)
	st := caughtUp(t, pr, s, "stats")
	if st.Applied != 2500 || st.LagEvents != 0 || st.State != Running || st.Generation != 1 {
		t.Fatalf("stats = %+v", st)
	}
	got, pos := readCounts(t, pr, "stats")
	sameCounts(t, got, logCounts(t, s, ""))
	if pos.Seq != pos.Head || pos.LagEvents != 0 || pos.LagSeconds != 0 {
		t.Fatalf("position = %+v, want caught up", pos)
	}
	if err := pr.Health(context.Background()); err != nil {
		t.Fatalf("health: %v", err)
	}
	if err := pr.Read(context.Background(), "nope", nil); !errors.Is(err, ErrUnknownProjection) {
		t.Fatalf("read unknown: %v", err)
	}
}

func TestNotifyAndLag(t *testing.T) {
	t.Parallel()
	var notify atomic.Pointer[Projector]
	s, dir := openLog(t, func() {
		if pr := notify.Load(); pr != nil {
			pr.Notify()
		}
	})
	pr2 := newProjector(t, dir, s, Counts{})
	pr2.PollInterval = time.Hour // only Notify wakes it
	// The first pass (at Open, on the projector's goroutine) takes in
	// what is there: wait for it, so that it cannot take in the 10 below.
	appendN(t, s, 1, "a")
	open(t, pr2)
	caughtUp(t, pr2, s, "stats")
	// Without notifications the projection lags; Read measures it live.
	appendN(t, s, 10, "a")
	time.Sleep(20 * time.Millisecond) // some seconds of lag to measure
	_, pos := readCounts(t, pr2, "stats")
	if pos.LagEvents != 10 || pos.Head != pos.Seq+10 || pos.LagSeconds <= 0 || pos.Lag <= 0 {
		t.Fatalf("position while lagging = %+v, want 10 events and some seconds", pos)
	}
	pr2.Notify()
	caughtUp(t, pr2, s, "stats")
	notify.Store(pr2) // from now on every commit notifies
	start := time.Now()
	appendN(t, s, 5, "b")
	caughtUp(t, pr2, s, "stats")
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("notify took %v", d)
	}
	got, _ := readCounts(t, pr2, "stats")
	sameCounts(t, got, logCounts(t, s, ""))
}

// TestFailedBatchLeavesNothing: an Apply that writes rows and then fails
// leaves neither rows nor checkpoint behind; the retry counts each event
// once.
func TestFailedBatchLeavesNothing(t *testing.T) {
	t.Parallel()
	s, dir := openLog(t, nil)
	appendN(t, s, 350, "a", "b")
	p := &hooked{name: "flaky", version: 1, hook: func(_ context.Context, call int64, _ []eventlog.Event) error {
		if call%2 == 0 { // every other attempt fails after writing
			return errors.New("disk hiccup")
		}
		return nil
	}}
	pr := newProjector(t, dir, s, p)
	pr.BatchSize = 100
	open(t, pr)
	st := caughtUp(t, pr, s, "flaky")
	if st.LastError == "" || st.Applied != 350 {
		t.Fatalf("stats = %+v, want a last error and 350 applied", st)
	}
	got, _ := readCounts(t, pr, "flaky")
	sameCounts(t, got, logCounts(t, s, ""))
}

// TestResumeAfterCrash: the projector stops in the middle of a batch (its
// rows written, not committed); a new projector on the same file resumes
// from the checkpoint and counts every event once.
func TestResumeAfterCrash(t *testing.T) {
	t.Parallel()
	s, dir := openLog(t, nil)
	appendN(t, s, 1000, "a", "b", "c")
	inside := make(chan struct{})
	p := &hooked{name: "stats", version: 1, hook: func(ctx context.Context, call int64, _ []eventlog.Event) error {
		if call == 4 {
			close(inside)
			<-ctx.Done() // "crash": Close cancels the batch mid-transaction
			return ctx.Err()
		}
		return nil
	}}
	pr := newProjector(t, dir, s, p)
	pr.BatchSize = 100
	open(t, pr)
	<-inside
	if err := pr.Close(); err != nil {
		t.Fatal(err)
	}
	if seq := statsOf(pr, "stats").Seq; seq != 300 {
		t.Fatalf("checkpoint after the crash = %d, want 300 (three batches)", seq)
	}
	pr2 := newProjector(t, dir, s, Counts{})
	open(t, pr2)
	st := caughtUp(t, pr2, s, "stats")
	if st.Applied != 700 {
		t.Fatalf("applied after restart = %d, want 700", st.Applied)
	}
	got, _ := readCounts(t, pr2, "stats")
	sameCounts(t, got, logCounts(t, s, ""))
}

// TestProcessesShareTheFile: two projectors on one file (two server
// processes on one data directory, with Redis) open at the same moment
// and then project the same log together; neither fails. With deferred
// transactions, one of them failed to open ("database is locked": a read
// snapshot that another process's write made stale cannot become a write
// transaction, and SQLite calls no busy handler for it) and their
// batches failed and were retried.
func TestProcessesShareTheFile(t *testing.T) {
	t.Parallel()
	for round := range 10 {
		s, dir := openLog(t, nil)
		prs := []*Projector{newProjector(t, dir, s, Counts{}), newProjector(t, dir, s, Counts{})}
		errs := make(chan error, len(prs))
		for _, pr := range prs {
			go func() { errs <- pr.Open(context.Background()) }()
		}
		for range prs {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: open beside another projector: %v", round, err)
			}
		}
		appendN(t, s, 300, "a", "b", "c")
		for i, pr := range prs {
			if st := caughtUp(t, pr, s, "stats"); st.LastError != "" {
				t.Fatalf("round %d: projector %d failed a batch: %s", round, i, st.LastError)
			}
		}
		got, _ := readCounts(t, prs[0], "stats")
		sameCounts(t, got, logCounts(t, s, ""))
	}
}
