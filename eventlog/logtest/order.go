package logtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/collabedit/collab/eventlog"
)

// testCallOrder: one goroutine's pipelined appends are answered in call
// order and stored in that order.
func testCallOrder(t *testing.T, impl Impl) {
	l := open(t, impl)
	const n = 500
	var mu sync.Mutex
	var got []int64
	var wg sync.WaitGroup
	wg.Add(n)
	for v := int64(0); v < n; v++ {
		l.AppendAsync(Ev("o", v), func(e eventlog.Event, err error) {
			defer wg.Done()
			if err != nil {
				t.Errorf("append %d: %v", e.Version, err)
			}
			mu.Lock()
			got = append(got, e.Version)
			mu.Unlock()
		})
	}
	wg.Wait()
	for i, v := range got {
		if v != int64(i) {
			t.Fatalf("callback %d was for version %d", i, v)
		}
	}
	if h, _ := l.Head(context.Background(), "o"); h != n {
		t.Fatalf("head = %d, want %d", h, n)
	}
}

// testGroupCommitBatches: concurrent appends share transactions.
func testGroupCommitBatches(t *testing.T, impl Impl) {
	l := open(t, impl)
	const docs, per = 64, 20
	var wg sync.WaitGroup
	for d := range docs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var inner sync.WaitGroup
			for v := int64(0); v < per; v++ {
				inner.Add(1)
				l.AppendAsync(Ev(fmt.Sprintf("doc%d", d), v), func(_ eventlog.Event, err error) {
					if err != nil {
						t.Errorf("append: %v", err)
					}
					inner.Done()
				})
			}
			inner.Wait()
		}()
	}
	wg.Wait()
	st := l.Stats()
	if st.Events != docs*per {
		t.Fatalf("stats events = %d, want %d", st.Events, docs*per)
	}
	if st.Commits >= st.Events || st.MaxBatch < 2 {
		t.Fatalf("no group commit: %d commits for %d events, max batch %d", st.Commits, st.Events, st.MaxBatch)
	}
	if st.QueuedAppends != 0 || st.QueuedBytes != 0 {
		t.Fatalf("queue gauges after all answered: %+v", st)
	}
}

// raceVersions has n appenders race for every version of one document;
// each round all of them append the same base version with distinct op
// ids, spread over stores.
func raceVersions(t *testing.T, stores []eventlog.Log, n, rounds int) {
	t.Helper()
	ctx := context.Background()
	for v := int64(0); v < int64(rounds); v++ {
		var wins, conflicts atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				l := stores[g%len(stores)]
				_, err := l.Append(ctx, eventlog.Event{Doc: "race", Version: v, OpID: fmt.Sprintf("g%d-v%d", g, v), Op: []byte(`[]`)})
				var ce *eventlog.ConflictError
				switch {
				case err == nil:
					wins.Add(1)
				case errors.As(err, &ce) && errors.Is(err, eventlog.ErrConflict) && ce.Version == v && ce.Doc == "race":
					conflicts.Add(1)
				default:
					t.Errorf("round %d: unexpected error %v", v, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if wins.Load() != 1 || conflicts.Load() != int32(n-1) {
			t.Fatalf("round %d: %d wins, %d conflicts; want 1 and %d", v, wins.Load(), conflicts.Load(), n-1)
		}
	}
	if h, err := stores[0].Head(ctx, "race"); err != nil || h != int64(rounds) {
		t.Fatalf("head = %d, %v; want %d", h, err, rounds)
	}
}

func testRaceSameVersion(t *testing.T, impl Impl) {
	raceVersions(t, []eventlog.Log{open(t, impl)}, 8, 60)
}

// testRaceTwoStores: appenders on two Stores of one database race for
// each version; exactly one wins, and the others were refused by a row
// their store did not write: the guard works through the database, not
// through either store's memory.
func testRaceTwoStores(t *testing.T, impl Impl) {
	db := impl.NewDB(t)
	a, b := impl.Open(t, db, Config{}), impl.Open(t, db, Config{})
	raceVersions(t, []eventlog.Log{a, b}, 8, 40)
	sa, sb := a.Stats(), b.Stats()
	if sa.Events+sb.Events != 40 || sa.Conflicts+sb.Conflicts != 40*7 {
		t.Fatalf("stats a=%+v b=%+v: want 40 events and 280 conflicts in total", sa, sb)
	}
}

// testSinceFollowsCommitOrder: two Stores on one database commit many
// events while a reader follows Since from its last seq, as a projection
// does. It must see every committed event exactly once, in increasing
// seq: a seq that became visible after a higher one would be skipped.
func testSinceFollowsCommitOrder(t *testing.T, impl Impl) {
	db := impl.NewDB(t)
	stores := []eventlog.Log{impl.Open(t, db, Config{}), impl.Open(t, db, Config{})}
	reader := impl.Open(t, db, Config{})
	const docs, per = 16, 60
	var committed sync.Map // seq → op id
	var total atomic.Int64
	var wg sync.WaitGroup
	for d := range docs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := stores[d%2]
			var inner sync.WaitGroup
			for v := int64(0); v < per; v++ {
				inner.Add(1)
				l.AppendAsync(Ev(fmt.Sprintf("f%d", d), v), func(e eventlog.Event, err error) {
					defer inner.Done()
					if err != nil {
						t.Errorf("append: %v", err)
						return
					}
					committed.Store(e.Seq, e.OpID)
					total.Add(1)
				})
			}
			inner.Wait()
		}()
	}
	writersDone := make(chan struct{})
	go func() { wg.Wait(); close(writersDone) }()
	ctx := context.Background()
	seen := map[int64]bool{}
	var last int64
	for done := false; !done; {
		select {
		case <-writersDone:
			done = true // one more read after the last commit
		default:
		}
		evs, err := reader.Since(ctx, last, 97)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Seq <= last || seen[e.Seq] {
				t.Fatalf("seq %d after %d", e.Seq, last)
			}
			seen[e.Seq], last = true, e.Seq
		}
		if len(evs) == 97 {
			done = false // not caught up yet
		}
	}
	if int64(len(seen)) != total.Load() || total.Load() != docs*per {
		t.Fatalf("reader saw %d events, %d committed, want %d", len(seen), total.Load(), docs*per)
	}
	committed.Range(func(k, _ any) bool {
		if !seen[k.(int64)] {
			t.Errorf("committed seq %d was skipped by the reader", k)
		}
		return true
	})
}

func testOnCommit(t *testing.T, impl Impl) {
	var calls atomic.Int64
	l := impl.Open(t, impl.NewDB(t), Config{OnCommit: func() { calls.Add(1) }})
	mustAppend(t, l, Ev("n", 0))
	if calls.Load() == 0 {
		t.Fatal("OnCommit not called before the append was answered")
	}
	// A store may also call it when another process commits (PostgreSQL's
	// LISTEN), so extra calls are allowed: it is a wake-up, not a count.
}
