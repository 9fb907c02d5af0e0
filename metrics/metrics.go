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

// StatsSource is the event log as the collector sees it: its counters.
// Every eventlog.Log (SQLite, PostgreSQL) implements it.
type StatsSource interface {
	Stats() eventlog.Stats
}

// Collector turns hub.Stats and eventlog.Stats into Prometheus metrics.
type Collector struct {
	hub    *hub.Hub
	store  StatsSource
	descs  []*prometheus.Desc
	hdescs []*prometheus.Desc
	ldescs []*prometheus.Desc
	bounds []float64 // hub.LatencyBounds in seconds
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
	{"collab_revoked_connections_total", "Connections closed with 4403 by a revocation.", prometheus.CounterValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.Revoked) }},
	{"collab_slow_consumers_total", "Connections closed with 4001 for falling behind.", prometheus.CounterValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.SlowConsumers) }},
	{"collab_rate_limited_total", "Messages refused with rate_limited.", prometheus.CounterValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.RateLimited) }},
	{"collab_conns_per_addr_refused_total", "Upgrades refused with HTTP 429: the client address held -max-conns-per-addr sockets already.", prometheus.CounterValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.AddrRefused) }},
	{"collab_forwarded_clients_total", "Connections whose client address was read from a trusted proxy's X-Forwarded-For.", prometheus.CounterValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.ForwardedClients) }},
	{"collab_user_rate_limited_total", "Messages refused with rate_limited over the per-user message rate (also in collab_rate_limited_total).", prometheus.CounterValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.UserRateLimited) }},
	{"collab_user_insert_limited_total", "Ops refused with rate_limited over the per-user inserted-bytes rate.", prometheus.CounterValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.UserInsertLimited) }},
	{"collab_docs_created_limited_total", "Ops refused with rate_limited because they would create a document over the user's hourly allowance.", prometheus.CounterValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.DocsCreatedLimited) }},
	{"collab_user_limiter_failures_total", "Per-user limit checks the shared limiter (Redis) could not answer; they were allowed.", prometheus.CounterValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.LimiterFailures) }},
	{"collab_opens_routed_total", "Routed opens answered with moved: the client was sent to the owning process.", prometheus.CounterValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.Redirects) }},
	{"collab_ops_forwarded_total", "Ops forwarded to the owning process (resends included).", prometheus.CounterValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.Forwarded) }},
	{"collab_gaps_filled_total", "Times a follower read missed events from the log.", prometheus.CounterValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.GapsFilled) }},
	{"collab_publish_failed_total", "Bus publishes that failed or were dropped.", prometheus.CounterValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.PublishFailed) }},
	{"collab_eventlog_commits_total", "Event log transactions committed.", prometheus.CounterValue, func(_ hub.Stats, s eventlog.Stats) float64 { return float64(s.Commits) }},
	{"collab_eventlog_events_total", "Events committed.", prometheus.CounterValue, func(_ hub.Stats, s eventlog.Stats) float64 { return float64(s.Events) }},
	{"collab_eventlog_conflicts_total", "Appends refused as version conflicts.", prometheus.CounterValue, func(_ hub.Stats, s eventlog.Stats) float64 { return float64(s.Conflicts) }},
	{"collab_eventlog_failures_total", "Event log transactions that failed.", prometheus.CounterValue, func(_ hub.Stats, s eventlog.Stats) float64 { return float64(s.Failures) }},
	{"collab_eventlog_queued_appends", "Appends waiting for the event log's writer.", prometheus.GaugeValue, func(_ hub.Stats, s eventlog.Stats) float64 { return float64(s.QueuedAppends) }},
	{"collab_eventlog_queued_bytes", "Payload bytes waiting for the event log's writer.", prometheus.GaugeValue, func(_ hub.Stats, s eventlog.Stats) float64 { return float64(s.QueuedBytes) }},
	{"collab_eventlog_batch_age_seconds", "How long the writer's current transaction has run (0 when idle); a stuck disk makes it grow.", prometheus.GaugeValue, func(_ hub.Stats, s eventlog.Stats) float64 { return s.BatchAge.Seconds() }},
	{"collab_eventlog_disk_full_total", "Write batches refused because free disk space was below the reserve.", prometheus.CounterValue, func(_ hub.Stats, s eventlog.Stats) float64 { return float64(s.DiskFull) }},
	{"collab_eventlog_busy_total", "Appends refused at once because the writer's queue was full.", prometheus.CounterValue, func(_ hub.Stats, s eventlog.Stats) float64 { return float64(s.Busy) }},
	{"collab_eventlog_snapshots_dropped_total", "Snapshots dropped because the writer's queue was full.", prometheus.CounterValue, func(_ hub.Stats, s eventlog.Stats) float64 { return float64(s.SnapshotsDropped) }},
	{"collab_eventlog_last_commit_timestamp_seconds", "When the event log last committed a transaction (unix seconds; 0: none yet).", prometheus.GaugeValue, func(_ hub.Stats, s eventlog.Stats) float64 {
		if s.LastCommit.IsZero() {
			return 0
		}
		return float64(s.LastCommit.UnixNano()) / 1e9
	}},
	{"collab_send_queue_bytes", "Bytes waiting in the connections' send queues.", prometheus.GaugeValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.QueuedBytes) }},
	{"collab_history_bytes", "Bytes held by the open documents' in-memory history.", prometheus.GaugeValue, func(h hub.Stats, _ eventlog.Stats) float64 { return float64(h.HistoryBytes) }},
}

// histogram is a latency histogram of the hub, in seconds.
type histogram struct {
	name, help string
	value      func(hub.Stats) hub.Histogram
}

var histograms = []histogram{
	{"collab_commit_seconds", "Time from an op handed to the event log to its commit result.", func(h hub.Stats) hub.Histogram { return h.Commit }},
	{"collab_ack_seconds", "Time from an op read from a client's socket to its ack queued, on the process holding the socket.", func(h hub.Stats) hub.Histogram { return h.Ack }},
	{"collab_delivery_seconds", "Time from a frame queued for a socket to its write (the oldest frame of each write).", func(h hub.Stats) hub.Histogram { return h.Delivery }},
	{"collab_follower_lag_seconds", "Time from an op sequenced by its owner to its application by another process.", func(h hub.Stats) hub.Histogram { return h.FollowerLag }},
}

// labelled are counters with one label, read from a map of hub.Stats.
type labelled struct {
	name, help, label string
	value             func(hub.Stats) map[string]uint64
}

var labelledCounters = []labelled{
	{"collab_refusals_total", "Errors sent to clients, by protocol error code.", "code", func(h hub.Stats) map[string]uint64 {
		m := make(map[string]uint64, len(h.Refusals))
		for c, n := range h.Refusals {
			m[string(c)] = n
		}
		return m
	}},
	{"collab_ownership_transitions_total", "Changes of a document's ownership on this process, by transition.", "transition", func(h hub.Stats) map[string]uint64 { return h.Transitions }},
}

// NewCollector returns a collector for h and store.
func NewCollector(h *hub.Hub, store StatsSource) *Collector {
	c := &Collector{hub: h, store: store}
	for _, m := range table {
		c.descs = append(c.descs, prometheus.NewDesc(m.name, m.help, nil, nil))
	}
	for _, h := range histograms {
		c.hdescs = append(c.hdescs, prometheus.NewDesc(h.name, h.help, nil, nil))
	}
	for _, l := range labelledCounters {
		c.ldescs = append(c.ldescs, prometheus.NewDesc(l.name, l.help, []string{l.label}, nil))
	}
	for _, b := range hub.LatencyBounds {
		c.bounds = append(c.bounds, b.Seconds())
	}
	return c
}

// Describe sends every metric's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, ds := range [][]*prometheus.Desc{c.descs, c.hdescs, c.ldescs} {
		for _, d := range ds {
			ch <- d
		}
	}
}

// Collect reads the counters once and sends every metric.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	hs, ss := c.hub.Stats(), c.store.Stats()
	for i, m := range table {
		ch <- prometheus.MustNewConstMetric(c.descs[i], m.kind, m.value(hs, ss))
	}
	for i, h := range histograms {
		ch <- c.histogram(c.hdescs[i], h.value(hs))
	}
	for i, l := range labelledCounters {
		for label, n := range l.value(hs) {
			ch <- prometheus.MustNewConstMetric(c.ldescs[i], prometheus.CounterValue, float64(n), label)
		}
	}
}

// histogram converts a hub histogram (counts per bucket) into Prometheus's
// cumulative form.
func (c *Collector) histogram(d *prometheus.Desc, h hub.Histogram) prometheus.Metric {
	buckets := make(map[float64]uint64, len(c.bounds))
	var cum uint64
	for i, b := range c.bounds {
		cum += h.Counts[i]
		buckets[b] = cum
	}
	return prometheus.MustNewConstHistogram(d, h.Count(), h.Sum.Seconds(), buckets)
}
