package readmodel_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/collabedit/collab/readmodel"
	"github.com/collabedit/collab/readmodel/rmtest"
)

// BenchmarkApply measures projection throughput: b.N events over 20
// documents fed to all three read models in batches of 1024, as the
// projector would. It reports events/s.
func BenchmarkApply(b *testing.B) {
	ctx := context.Background()
	store := rmtest.OpenStore(b)
	rng := rand.New(rand.NewPCG(3, 4))
	const docs = 20
	per := b.N/docs + 1
	for d := range docs {
		edits, _ := randomEdits(rng, per, time.Unix(0, 0))
		w := rmtest.NewWriter(store, fmt.Sprint("d", d))
		if err := w.AppendAll(ctx, edits, 0); err != nil {
			b.Fatal(err)
		}
	}
	drv := rmtest.New(b, store, readmodel.All()...)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	if err := drv.CatchUp(ctx, 1024); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(per*docs)/time.Since(start).Seconds(), "events/s")
}
