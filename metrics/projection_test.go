package metrics_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/collabedit/collab/metrics"
	"github.com/collabedit/collab/projection"
)

type fakeProjections []projection.Stats

func (f fakeProjections) Stats() []projection.Stats { return f }

func TestProjectionCollector(t *testing.T) {
	t.Parallel()
	c := metrics.NewProjectionCollector(fakeProjections{
		{Name: "docs", State: projection.Running, Seq: 90, Head: 100, LagEvents: 10, LagSeconds: 0.5, Applied: 90, DeadLetters: 2},
		{Name: "search", State: projection.Stopped, Seq: 100, Head: 100, Applied: 100},
	})
	want := `
# HELP collab_projection_lag_events Events in the log the projection's serving generation has not applied yet.
# TYPE collab_projection_lag_events gauge
collab_projection_lag_events{projection="docs"} 10
collab_projection_lag_events{projection="search"} 0
# HELP collab_projection_lag_seconds Age of the oldest event the projection has not applied yet (0 when caught up).
# TYPE collab_projection_lag_seconds gauge
collab_projection_lag_seconds{projection="docs"} 0.5
collab_projection_lag_seconds{projection="search"} 0
# HELP collab_projection_dead_letters_total Events the projection could not apply, recorded as dead letters.
# TYPE collab_projection_dead_letters_total counter
collab_projection_dead_letters_total{projection="docs"} 2
collab_projection_dead_letters_total{projection="search"} 0
# HELP collab_projection_applied_total Events applied (or skipped as dead letters) by the projection since the process started, rebuilds included.
# TYPE collab_projection_applied_total counter
collab_projection_applied_total{projection="docs"} 90
collab_projection_applied_total{projection="search"} 100
# HELP collab_projection_stopped 1 when the projection stopped on a dead letter (OnError stop); /readyz fails meanwhile.
# TYPE collab_projection_stopped gauge
collab_projection_stopped{projection="docs"} 0
collab_projection_stopped{projection="search"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "collab_projection_lag_events", "collab_projection_lag_seconds",
		"collab_projection_dead_letters_total", "collab_projection_applied_total", "collab_projection_stopped"); err != nil {
		t.Fatal(err)
	}
}
