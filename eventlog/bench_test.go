package eventlog

import (
	"context"
	"sync"
	"testing"
)

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
