// Package metrics exposes the server's counters to Prometheus. It reads the
// hub's and the event log's own atomic counters at scrape time (a custom
// collector), so the hot paths pay nothing for metrics beyond an atomic
// add, and the numbers exist whether or not anyone scrapes.
//
// The collector is safe for concurrent scrapes; it starts no goroutines.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/hub"
)

// Collector turns hub.Stats and eventlog.Stats into Prometheus metrics.
type Collector struct {
	hub   *hub.Hub
	store *eventlog.Store
	descs []*prometheus.Desc
}

type metric struct {
	name, help string
	kind       prometheus.ValueType
	value      func(hub.Stats, eventlog.Stats) float64
}

// The metrics, in one table so name, help and source stay together.
var table = []metric{
	{"collab_connections", "WebSocket connections being served.", prometheus.GaugeValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.Connections) }},
	{"collab_documents_loaded", "Documents loaded in memory.", prometheus.GaugeValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.Documents) }},
	{"collab_ops_applied_total", "Ops committed and acknowledged by this process as owner.", prometheus.CounterValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.OpsApplied) }},
	{"collab_ops_refused_total", "Ops answered with an error.", prometheus.CounterValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.OpsRefused) }},
	{"collab_frames_sent_total", "WebSocket messages written.", prometheus.CounterValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.FramesSent) }},
	{"collab_slow_consumers_total", "Connections closed with 4001 for falling behind.", prometheus.CounterValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.SlowConsumers) }},
	{"collab_rate_limited_total", "Messages refused with rate_limited.", prometheus.CounterValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.RateLimited) }},
	{"collab_opens_routed_total", "Routed opens answered with moved: the client was sent to the owning process.", prometheus.CounterValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.Redirects) }},
	{"collab_ops_forwarded_total", "Ops forwarded to the owning process (resends included).", prometheus.CounterValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.Forwarded) }},
	{"collab_gaps_filled_total", "Times a follower read missed events from the log.", prometheus.CounterValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.GapsFilled) }},
	{"collab_publish_failed_total", "Bus publishes that failed or were dropped.", prometheus.CounterValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.PublishFailed) }},
	{"collab_eventlog_commits_total", "Event log transactions committed.", prometheus.CounterValue, func(_ hub.Stats, s eventlog.Stats) float64 { return float64(s.Commits) }},
	{"collab_eventlog_events_total", "Events committed.", prometheus.CounterValue, func(_ hub.Stats, s eventlog.Stats) float64 { return float64(s.Events) }},
	{"collab_eventlog_conflicts_total", "Appends refused as version conflicts.", prometheus.CounterValue, func(_ hub.Stats, s eventlog.Stats) float64 { return float64(s.Conflicts) }},
	{"collab_eventlog_failures_total", "Event log transactions that failed.", prometheus.CounterValue, func(_ hub.Stats, s eventlog.Stats) float64 { return float64(s.Failures) }},
}

// NewCollector returns a collector for h and store.
func NewCollector(h *hub.Hub, store *eventlog.Store) *Collector {
	c := &Collector{hub: h, store: store}
	for _, m := range table {
		c.descs = append(c.descs, prometheus.NewDesc(m.name, m.help, nil, nil))
	}
	return c
}

// Describe sends every metric's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect reads the counters once and sends every metric.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	hs, ss := c.hub.Stats(), c.store.Stats()
	for i, m := range table {
		ch <- prometheus.MustNewConstMetric(c.descs[i], m.kind, m.value(hs, ss))
	}
}
