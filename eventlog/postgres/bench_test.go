package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/eventlog/postgres"
	"github.com/collabedit/collab/pgtest"
)

// benchStore opens a Store on a fresh database of the durable shared
// server (fsync and synchronous_commit on, as in production).
func benchStore(b *testing.B) *postgres.Store {
	b.Helper()
	return openStore(b, pgtest.SharedWith(b, pgtest.Config{Durable: true}).DB(b), postgres.Config{})
}

// BenchmarkAppendParallel is eventlog's benchmark of the same name on
// PostgreSQL: 128×GOMAXPROCS goroutines, each appending consecutive
// versions of its own document and waiting for the ack.
func BenchmarkAppendParallel(b *testing.B) {
	s := benchStore(b)
	payload := []byte(`[12,"hello"]`)
	var docs atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism(128)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		doc := fmt.Sprintf("bench-%d", docs.Add(1))
		local := make([]time.Duration, 0, 64)
		var v int64
		for pb.Next() {
			t0 := time.Now()
			_, err := s.Append(context.Background(), eventlog.Event{Doc: doc, Version: v, OpID: fmt.Sprint(v), Author: "bench", Op: payload})
			local = append(local, time.Since(t0))
			if err != nil {
				b.Error(err)
				return
			}
			v++
		}
		mu.Lock()
		lat = append(lat, local...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	st := s.Stats()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(st.Events)/float64(max(st.Commits, 1)), "events/commit")
	if len(lat) > 0 {
		slices.Sort(lat)
		q := func(p float64) float64 {
			return float64(lat[int(p*float64(len(lat)-1))]) / float64(time.Millisecond)
		}
		b.ReportMetric(q(0.50), "p50-ms")
		b.ReportMetric(q(0.99), "p99-ms")
	}
}

// BenchmarkAppendSerial is the one-commit-per-event baseline.
func BenchmarkAppendSerial(b *testing.B) {
	s := benchStore(b)
	b.ReportAllocs()
	b.ResetTimer()
	for v := range int64(b.N) {
		if _, err := s.Append(context.Background(), eventlog.Event{Doc: "serial", Version: v, OpID: fmt.Sprint(v), Op: []byte(`[1]`)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
