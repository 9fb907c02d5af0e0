package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/hub/hubtest"
	"github.com/collabedit/collab/metrics"
)

// TestCollectorReportsAppliedOps applies one op through a real hub and
// reads it back as Prometheus text.
func TestCollectorReportsAppliedOps(t *testing.T) {
	s := hubtest.Start(t, hub.Config{})
	sendUntilAck(t, s.URL, `{"type":"open","doc":"m"}`, `{"type":"op","doc":"m","version":0,"id":"c:1","op":["x"]}`)
	c := metrics.NewCollector(s.Hub, s.Store)
	want := `
# HELP collab_ops_applied_total Ops committed and acknowledged by this process as owner.
# TYPE collab_ops_applied_total counter
collab_ops_applied_total 1
# HELP collab_eventlog_events_total Events committed.
# TYPE collab_eventlog_events_total counter
collab_eventlog_events_total 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "collab_ops_applied_total", "collab_eventlog_events_total"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(c); n < 10 {
		t.Fatalf("%d metrics, want the whole table", n)
	}
}

// TestLatencyAndRefusals: one op is timed from socket to commit and ack
// and from queue to socket; a refused message is counted by its code.
func TestLatencyAndRefusals(t *testing.T) {
	s := hubtest.Start(t, hub.Config{})
	sendUntilAck(t, s.URL, `{"type":"open","doc":"m"}`, `{"type":"nonsense"}`, `{"type":"op","doc":"m","version":0,"id":"c:1","op":["x"]}`)
	c := metrics.NewCollector(s.Hub, s.Store)
	text := gather(t, c)
	for _, want := range []string{
		`collab_commit_seconds_count 1`,
		`collab_ack_seconds_count 1`,
		`collab_refusals_total{code="bad_request"} 1`,
		`collab_refusals_total{code="unavailable"} 0`,
		`collab_delivery_seconds_bucket{le="+Inf"}`,
		`collab_send_queue_bytes`,
		`collab_ownership_transitions_total{transition="took over"} 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in\n%s", want, text)
		}
	}
}

// gather renders c's metrics in the Prometheus text format.
func gather(t *testing.T, c prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sendUntilAck sends frames on a fresh socket to url and reads until an
// ack comes back.
func sendUntilAck(t *testing.T, url string, frames ...string) {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	for _, f := range frames {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(f)); err != nil {
			t.Fatal(err)
		}
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), `"ack"`) {
			return
		}
	}
}
