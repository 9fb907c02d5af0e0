package metrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/hub/hubtest"
	"github.com/collabedit/collab/metrics"
)

// TestCollectorReportsAppliedOps applies one op through a real hub and
// reads it back as Prometheus text.
func TestCollectorReportsAppliedOps(t *testing.T) {
	s := hubtest.Start(t, hub.Config{})
	ws, _, err := websocket.DefaultDialer.Dial(s.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	for _, f := range []string{`{"type":"open","doc":"m"}`, `{"type":"op","doc":"m","version":0,"id":"c:1","op":["x"]}`} {
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
			break
		}
	}
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
