package loadgen

import (
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Histograms record microseconds from 1 µs to 60 s with 3 significant
// digits: 0.1 % error at any value, about 150 KB each.
const (
	histMin    = 1
	histMax    = int64(60 * time.Second / time.Microsecond)
	histDigits = 3
	// nShards spreads recording over this many mutexes. 16 keeps
	// contention negligible with hundreds of recording goroutines on a
	// few cores, and the once-a-second merge of 2×16 histograms costs
	// about 2 ms.
	nShards = 16
)

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(histMin, histMax, histDigits) }

// record adds d to h, clamped to the histogram's range.
func record(h *hdrhistogram.Histogram, d time.Duration) {
	us := d.Microseconds()
	_ = h.RecordValue(min(max(us, histMin), histMax))
}

// shardedHist is a latency histogram written by many goroutines: each
// writes one shard (its interval histogram); fold moves every interval
// into the cumulative total and returns the interval just closed.
type shardedHist struct {
	shards [nShards]struct {
		mu       sync.Mutex
		interval *hdrhistogram.Histogram
		_        [40]byte // keep shards' mutexes on separate cache lines
	}
	mu    sync.Mutex // guards total and last
	total *hdrhistogram.Histogram
	last  *hdrhistogram.Histogram // the last closed interval
}

func newShardedHist() *shardedHist {
	s := &shardedHist{total: newHist(), last: newHist()}
	for i := range s.shards {
		s.shards[i].interval = newHist()
	}
	return s
}

// add records d in shard i.
func (s *shardedHist) add(i int, d time.Duration) {
	sh := &s.shards[uint(i)%nShards]
	sh.mu.Lock()
	record(sh.interval, d)
	sh.mu.Unlock()
}

// fold closes the current interval: it is merged into the total and kept
// as last. The ticker calls it once per second.
func (s *shardedHist) fold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last.Reset()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		s.last.Merge(sh.interval)
		sh.interval.Reset()
		sh.mu.Unlock()
	}
	s.total.Merge(s.last)
}

// summary folds pending values and summarises the total.
func (s *shardedHist) summary() Latency {
	s.fold()
	s.mu.Lock()
	defer s.mu.Unlock()
	return summarize(s.total)
}

// lastP99 is the p99 of the last closed interval, in milliseconds.
func (s *shardedHist) lastP99() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ms(s.last.ValueAtQuantile(99))
}

// totalP99 is the p99 of everything folded so far, in milliseconds.
func (s *shardedHist) totalP99() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ms(s.total.ValueAtQuantile(99))
}

// Latency summarises a latency distribution; times are in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
	Max   float64 `json:"max_ms"`
}

func summarize(h *hdrhistogram.Histogram) Latency {
	if h.TotalCount() == 0 {
		return Latency{}
	}
	return Latency{
		Count: h.TotalCount(),
		Mean:  h.Mean() / 1000,
		P50:   ms(h.ValueAtQuantile(50)),
		P90:   ms(h.ValueAtQuantile(90)),
		P99:   ms(h.ValueAtQuantile(99)),
		P999:  ms(h.ValueAtQuantile(99.9)),
		Max:   ms(h.Max()),
	}
}

func ms(us int64) float64 { return float64(us) / 1000 }
