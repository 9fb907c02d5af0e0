package loadgen

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/hub/hubtest"
	"github.com/collabedit/collab/metrics"
)

// testServer is a real hub on a real event log (hubtest) plus the
// server's /metrics on its own port, as cmd/server registers them.
type testServer struct {
	*hubtest.Server
	MetricsURL string
}

func startServer(tb testing.TB) *testServer {
	tb.Helper()
	// Pipelined replay sends thousands of ops a second on one socket.
	s := hubtest.Start(tb, hub.Config{RatePerSecond: 1e9, RateBurst: 1 << 30})
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		metrics.NewCollector(s.Hub, s.Store))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	ms := httptest.NewServer(mux)
	tb.Cleanup(ms.Close)
	return &testServer{Server: s, MetricsURL: ms.URL + "/metrics"}
}

// options are quick settings for a test run against s.
func (s *testServer) options() Options {
	return Options{URLs: []string{s.URL}, MetricsURLs: []string{s.MetricsURL}, Seed: 7}
}

// checkSane fails on numbers no correct run can produce.
func checkSane(t *testing.T, rp *Report) {
	t.Helper()
	for name, l := range map[string]Latency{"ack": rp.Ack, "remote": rp.Remote, "connect": rp.Connect} {
		if l.Count > 0 && !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max+0.01) {
			t.Errorf("%s latency percentiles out of order: %+v", name, l)
		}
	}
	c := rp.Counts
	if c.Acked+c.Refused+c.Unacked != c.Sent {
		t.Errorf("sent %d != acked %d + refused %d + unacked %d", c.Sent, c.Acked, c.Refused, c.Unacked)
	}
	if c.Sent > c.Edits {
		t.Errorf("sent %d ops from %d edits", c.Sent, c.Edits)
	}
	if len(rp.Series) == 0 {
		t.Error("no per-second series")
	}
}
