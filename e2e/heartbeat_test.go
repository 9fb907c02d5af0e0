package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/collabedit/collab/internal/faultnet"
)

// TestHalfOpenConnectionGoesOffline: the network stalls without closing
// anything (no FIN, no RST: the proxy just stops forwarding either way).
// An idle page notices through its heartbeat (docs/protocol.md §16),
// says Offline within a few seconds instead of "Saved", and is back and
// saving once forwarding resumes. The heartbeat is shortened to 0.5 s /
// 1.5 s for the test (defaults 5 s / 10 s).
func TestHalfOpenConnectionGoesOffline(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.seed(t, "halfopen", "quiet text")
	px := faultnet.Start(t, srv.addr)
	p := openPage(t, "idle", px.URL("/d/halfopen"))
	p.waitSaved()
	eval[chromedp.Void](p, `collab.conn.setHeartbeat(500, 1500)`)
	p.waitFor(`collab.conn.lastPongAt > 0`, `JSON.stringify({pong: collab.conn.lastPongAt, state: collab.conn.state})`, 5*time.Second)

	px.Hold(faultnet.HoldBoth)
	stalled := time.Now()
	p.waitFor(`document.getElementById('status').dataset.state === 'offline'`, stateJS, 5*time.Second)
	t.Logf("offline %v after the stall", time.Since(stalled).Round(100*time.Millisecond))
	if status := eval[string](p, `document.getElementById('status').textContent`); !strings.HasPrefix(status, "Offline") {
		t.Errorf("status %q, want Offline", status)
	}
	if n := eval[int](p, `collab.conn.heartbeatDrops`); n < 1 {
		t.Errorf("heartbeatDrops = %d: the page went offline some other way", n)
	}
	// Typed while stalled: kept, and sent once the network is back.
	p.caret(-1)
	p.keys(" and more")

	px.Hold(faultnet.HoldNone)
	p.waitFor(`document.getElementById('status').dataset.state === 'saved' && !collab.client.pending`, stateJS, 20*time.Second)
	if got, _ := srv.text(t, "halfopen"); got != "quiet text and more" {
		t.Fatalf("server has %q after the network came back", got)
	}
}
