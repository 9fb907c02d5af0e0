package eventlog

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkAppendParallel measures durable (synchronous=FULL) throughput
// and per-append commit latency with 128×GOMAXPROCS goroutines (256 on a
// 2-core machine), each appending consecutive versions of its own document
// and waiting for the ack, as a hub with many open documents would.
func BenchmarkAppendParallel(b *testing.B) {
	s := openTest(b, tempDB(b), Config{})
	payload := []byte(`{"v":1,"ops":[{"retain":12},{"insert":"hello"}]}`)
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
			_, err := s.Append(context.Background(), Event{Doc: doc, Version: v, OpID: fmt.Sprint(v), Author: "bench", Op: payload})
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

// BenchmarkAppendSerial is the one-fsync-per-event baseline: a single
// caller waiting for each ack gets no batching.
func BenchmarkAppendSerial(b *testing.B) {
	s := openTest(b, tempDB(b), Config{})
	payload := []byte(`{"v":1,"ops":[{"retain":12},{"insert":"hello"}]}`)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Append(context.Background(), Event{Doc: "serial", Version: int64(i), OpID: fmt.Sprint(i), Op: payload}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkEvents(b *testing.B) {
	s := openTest(b, tempDB(b), Config{})
	ctx := context.Background()
	var wg sync.WaitGroup
	for v := int64(0); v < 1000; v++ {
		wg.Add(1)
		s.AppendAsync(ev("read", v), func(_ Event, err error) {
			if err != nil {
				b.Error(err)
			}
			wg.Done()
		})
	}
	wg.Wait()
	b.ReportAllocs()
	for b.Loop() {
		evs, err := s.Events(ctx, "read", 500, 100)
		if err != nil || len(evs) != 100 {
			b.Fatalf("%d events, %v", len(evs), err)
		}
	}
}

func BenchmarkLatestSnapshot(b *testing.B) {
	s := openTest(b, tempDB(b), Config{})
	ctx := context.Background()
	text := string(make([]byte, 4096))
	for v := int64(0); v < 100; v++ {
		if err := s.PutSnapshot(ctx, Snapshot{Doc: "snap", Version: v * 100, Text: text}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		snap, ok, err := s.LatestSnapshot(ctx, "snap")
		if err != nil || !ok || snap.Version != 9900 {
			b.Fatalf("%+v %v %v", snap.Version, ok, err)
		}
	}
}
