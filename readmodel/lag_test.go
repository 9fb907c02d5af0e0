package readmodel_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/projection"
	"github.com/collabedit/collab/readmodel"
	"github.com/collabedit/collab/readmodel/rmtest"
)

// BenchmarkLagUnderLoad: the projector with every read model follows an
// event log that 20 writers keep appending to, each one op at a time and
// waiting for its durable commit (the log's group commit then carries
// several per transaction, as it does for the hub's editors), woken by
// OnCommit.
// Every 10 ms the docs read model's position is read; the lag between the
// log's head and what the read model reflects is reported as p50/p99 in
// ms, with the events appended per second (docs/benchmarks.md).
//
//	go test -run '^$' -bench LagUnderLoad -benchtime 5000x ./readmodel/
func BenchmarkLagUnderLoad(b *testing.B) {
	var notify atomic.Pointer[projection.Projector]
	store, err := eventlog.Open(filepath.Join(b.TempDir(), "log.db"), eventlog.Config{MinFreeBytes: -1,
		OnCommit: func() {
			if p := notify.Load(); p != nil {
				p.Notify()
			}
		}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	proj := projection.New(filepath.Join(b.TempDir(), "readmodels.db"), store)
	for _, p := range readmodel.All() {
		if err := proj.Register(p); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	if err := proj.Open(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = proj.Close() })
	notify.Store(proj)

	var lags []time.Duration
	var mu sync.Mutex
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				_ = proj.Read(ctx, readmodel.DocsName, func(_ context.Context, _ *sql.Tx, _ projection.Tables, pos projection.Position) error {
					mu.Lock()
					lags = append(lags, pos.Lag)
					mu.Unlock()
					return nil
				})
			}
		}
	}()
	const writers = 20 // editors of one document, one op in flight each
	docs := make([]*rmtest.Writer, writers)
	for i := range docs {
		docs[i] = rmtest.NewWriter(store, "hot"+string(rune('a'+i)))
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i, w := range docs {
		n := b.N / writers
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < n; k++ {
				op := document.Op{{Retain: w.Text.Len()}, {Insert: "x"}}
				if w.Text.Len() == 0 {
					op = document.Op{{Insert: "x"}}
				}
				if _, err := w.Append(ctx, rmtest.Edit{Op: op, Author: "a" + string(rune('0'+i%10))}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(stop)
	<-sampled
	sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
	if len(lags) > 0 {
		b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "lag-p50-ms")
		b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "lag-p99-ms")
	}
	b.ReportMetric(float64(b.N/writers*writers)/elapsed.Seconds(), "events/s")
}
