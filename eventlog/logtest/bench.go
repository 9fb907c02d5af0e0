package logtest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collabedit/collab/eventlog"
)

// BenchAppendParallel measures durable throughput and per-append commit
// latency of s with 128×GOMAXPROCS goroutines (256 on a 2-core machine),
// each appending consecutive versions of its own document and waiting for
// the ack, as a hub with many open documents would. It reports events/s,
// events per commit and the p50 and p99 latency. Each store's
// BenchmarkAppendParallel calls it, so their figures compare.
func BenchAppendParallel(b *testing.B, s eventlog.Log) {
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

// BenchAppendSerial is the one-commit-per-event baseline: a single
// caller waiting for each ack gets no batching.
func BenchAppendSerial(b *testing.B, s eventlog.Log) {
	payload := []byte(`[12,"hello"]`)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Append(context.Background(), eventlog.Event{Doc: "serial", Version: int64(i), OpID: fmt.Sprint(i), Op: payload}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// hotWave is how many ops of one document BenchAppendHot commits at a
// time: the events per commit a hot document reached with 30 editors in
// cmd/server's BenchmarkClusterHotDoc (14).
const hotWave = 14

// BenchAppendHot is one hot document: waves of hotWave consecutive
// versions queued at once (as a hub's sequencer hands a batch to the log)
// and acked before the next wave. It reports events/s and the ms per
// commit of the first and of the last tenth of the run, so a commit whose
// cost grows with the document's length (a gap check that scans the
// document) shows as last-ms well above first-ms. Run it long enough for
// that to matter: -benchtime 20000x.
func BenchAppendHot(b *testing.B, s eventlog.Log) {
	payload := []byte(`[12,"hello"]`)
	waves := (b.N + hotWave - 1) / hotWave
	perWave := make([]time.Duration, 0, waves)
	errs := make(chan error, hotWave)
	b.ReportAllocs()
	b.ResetTimer()
	for v := 0; v < b.N; {
		t0 := time.Now()
		n := min(hotWave, b.N-v)
		for range n {
			s.AppendAsync(eventlog.Event{Doc: "hot", Version: int64(v), OpID: fmt.Sprint(v), Op: payload, Size: -1},
				func(_ eventlog.Event, err error) { errs <- err })
			v++
		}
		for range n {
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
		perWave = append(perWave, time.Since(t0))
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	tenth := max(len(perWave)/10, 1)
	mean := func(ds []time.Duration) float64 {
		var sum time.Duration
		for _, d := range ds {
			sum += d
		}
		return float64(sum) / float64(len(ds)) / float64(time.Millisecond)
	}
	b.ReportMetric(mean(perWave[:tenth]), "first-ms")
	b.ReportMetric(mean(perWave[len(perWave)-tenth:]), "last-ms")
}
