package query_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/readmodel/rmtest"
)

// timed runs fn b.N times and reports the p50 and p99 latency.
func timed(b *testing.B, fn func(i int)) {
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		fn(i)
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkTextAtVersion: GET .../text?version=N for random versions of
// the automerge-paper document (259,778 versions, snapshots every 200).
func BenchmarkTextAtVersion(b *testing.B) {
	p := loadPaper(b)
	rng := rand.New(rand.NewPCG(1, 1))
	n := int64(len(p.ops))
	timed(b, func(int) {
		if code := serve(p.env, fmt.Sprintf("/api/v1/docs/paper/text?version=%d", rng.Int64N(n+1)), ""); code != http.StatusOK {
			b.Fatal(code)
		}
	})
}

var (
	searchOnce sync.Once
	searchEnv  *env
	vocabulary []string
)

// loadSearch writes 10,000 small documents (30 words each from a
// vocabulary of 2,000) and feeds the read models.
func loadSearch(b *testing.B) *env {
	searchOnce.Do(func() {
		e := newEnv(&keepTB{TB: b}, nil)
		for i := range 2000 {
			vocabulary = append(vocabulary, fmt.Sprintf("w%dx%c", i, 'a'+i%26))
		}
		docs := make(chan int)
		var wg sync.WaitGroup
		for range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for d := range docs {
					rng := rand.New(rand.NewPCG(2, uint64(d)))
					w := rmtest.NewWriter(e.store, fmt.Sprint("s", d))
					var sb strings.Builder
					for range 30 {
						sb.WriteString(vocabulary[rng.IntN(len(vocabulary))] + " ")
					}
					if _, err := w.Append(context.Background(), rmtest.Edit{Op: document.FromPatch(0, 0, sb.String()), Author: "a"}); err != nil {
						panic(err)
					}
				}
			}()
		}
		for d := range 10_000 {
			docs <- d
		}
		close(docs)
		wg.Wait()
		e.catchUp()
		searchEnv = e
	})
	return searchEnv
}

// BenchmarkSearch10k: GET /api/v1/search?q=<word>&limit=20 over 10,000
// documents, a random vocabulary word (~150 documents each) per query.
func BenchmarkSearch10k(b *testing.B) {
	e := loadSearch(b)
	rng := rand.New(rand.NewPCG(3, 3))
	timed(b, func(int) {
		if code := serve(e, "/api/v1/search?limit=20&q="+vocabulary[rng.IntN(len(vocabulary))], ""); code != http.StatusOK {
			b.Fatal(code)
		}
	})
}
