package projection

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collabedit/collab/eventlog"
)

// memLog is an in-memory Log: the benchmark measures the projector, not
// the event log's reads.
type memLog struct{ evs []eventlog.Event }

func (m *memLog) Since(_ context.Context, after int64, limit int) ([]eventlog.Event, error) {
	if after >= int64(len(m.evs)) {
		return nil, nil
	}
	end := min(int64(len(m.evs)), after+int64(limit))
	return m.evs[after:end], nil
}

func (m *memLog) LastSeq(context.Context) (int64, error) { return int64(len(m.evs)), nil }

// counter is a trivial projection: one row, updated once per batch.
type counter struct{ n atomic.Int64 }

func (*counter) Name() string { return "counter" }
func (*counter) Version() int { return 1 }
func (*counter) Create(ctx context.Context, tx *sql.Tx, t Tables) error {
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE %s (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)`, t.Name("n")))
	return err
}
func (c *counter) Apply(ctx context.Context, tx *sql.Tx, t Tables, evs []eventlog.Event) error {
	c.n.Add(int64(len(evs)))
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s (id, n) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET n = n + excluded.n`, t.Name("n")), len(evs))
	return err
}

// BenchmarkProjector feeds 100,000 events per iteration from an empty
// read-model database to caught up: through a trivial projection (one
// row updated per batch: the projector's own cost), and through the stats
// projection (two upserts per event).
func BenchmarkProjector(b *testing.B) {
	const n = 100_000
	log := &memLog{evs: make([]eventlog.Event, n)}
	for i := range log.evs {
		log.evs[i] = eventlog.Event{Seq: int64(i + 1), Doc: fmt.Sprintf("d%d", i%100), Version: int64(i / 100),
			OpID: "x", Author: fmt.Sprintf("a%d", i%7), Time: time.Now()}
	}
	b.Run("trivial", func(b *testing.B) { benchProjector(b, log, &counter{}) })
	b.Run("stats", func(b *testing.B) { benchProjector(b, log, Counts{}) })
}

func benchProjector(b *testing.B, log *memLog, p Projection) {
	n := int64(len(log.evs))
	b.ReportAllocs()
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		pr := newProjector(b, b.TempDir(), log, p)
		start := time.Now()
		open(b, pr)
		for statsOf(pr, p.Name()).Seq < n {
			time.Sleep(100 * time.Microsecond)
		}
		total += time.Since(start)
		_ = pr.Close()
	}
	b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "events/s")
}
