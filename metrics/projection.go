package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/collabedit/collab/projection"
)

// ProjectionCollector turns projection.Stats into Prometheus metrics, one
// series per projection (label "projection"), read at scrape time.
type ProjectionCollector struct {
	p     ProjectionStats
	descs []*prometheus.Desc
}

// ProjectionStats is what the collector reads: *projection.Projector.
type ProjectionStats interface {
	Stats() []projection.Stats
}

type projectionMetric struct {
	name, help string
	kind       prometheus.ValueType
	value      func(projection.Stats) float64
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// The projection metrics, in one table so name, help and source stay together.
var projectionTable = []projectionMetric{
	{"collab_projection_lag_events", "Events in the log the projection's serving generation has not applied yet.", prometheus.GaugeValue, func(s projection.Stats) float64 { return float64(s.LagEvents) }},
	{"collab_projection_lag_seconds", "Age of the oldest event the projection has not applied yet (0 when caught up).", prometheus.GaugeValue, func(s projection.Stats) float64 { return s.LagSeconds }},
	{"collab_projection_applied_total", "Events applied (or skipped as dead letters) by the projection since the process started, rebuilds included.", prometheus.CounterValue, func(s projection.Stats) float64 { return float64(s.Applied) }},
	{"collab_projection_dead_letters_total", "Events the projection could not apply, recorded as dead letters.", prometheus.CounterValue, func(s projection.Stats) float64 { return float64(s.DeadLetters) }},
	{"collab_projection_seq", "Last event (global sequence) applied by the projection's serving generation.", prometheus.GaugeValue, func(s projection.Stats) float64 { return float64(s.Seq) }},
	{"collab_projection_rebuilding", "1 while a new generation of the projection is being built.", prometheus.GaugeValue, func(s projection.Stats) float64 { return boolGauge(s.BuildGeneration != 0) }},
	{"collab_projection_stopped", "1 when the projection stopped on a dead letter (OnError stop); /readyz fails meanwhile.", prometheus.GaugeValue, func(s projection.Stats) float64 { return boolGauge(s.State == projection.Stopped) }},
}

// NewProjectionCollector returns a collector for p's projections.
func NewProjectionCollector(p ProjectionStats) *ProjectionCollector {
	c := &ProjectionCollector{p: p}
	for _, m := range projectionTable {
		c.descs = append(c.descs, prometheus.NewDesc(m.name, m.help, []string{"projection"}, nil))
	}
	return c
}

// Describe sends every metric's description.
func (c *ProjectionCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect reads the stats once and sends every metric of every projection.
func (c *ProjectionCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.p.Stats() {
		for i, m := range projectionTable {
			ch <- prometheus.MustNewConstMetric(c.descs[i], m.kind, m.value(s), s.Name)
		}
	}
}
