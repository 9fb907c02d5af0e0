package hub_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/internal/poll"
)

// TestIdleSocketsHoldNoWriter: a socket's writer goroutine exits when
// there is nothing to send (an idle socket keeps only its reader), and
// comes back for broadcasts and pings.
func TestIdleSocketsHoldNoWriter(t *testing.T) {
	// Not parallel: it counts the process's goroutines.
	s := startServer(t, hub.Config{PingInterval: 2 * time.Second})
	const n = 40
	base := runtime.NumGoroutine()
	clients := make([]*wsClient, n)
	for i := range clients {
		clients[i] = dial(t, s.URL)
		clients[i].open("d")
	}
	// Writers linger a second after their last write (the snapshot), and
	// pings come every 2 s, so they go idle in between.
	var extra int
	poll.Until(t, "idle writers to exit", func() bool {
		extra = runtime.NumGoroutine() - base
		return extra < n+n/2 // one reader each, plus slack; 2 per socket with writers
	})
	// A broadcast restarts the writers.
	clients[0].send(`{"type":"op","doc":"d","version":0,"id":"a:1","op":["x"]}`)
	clients[0].expect("ack")
	for _, c := range clients[1:] {
		if m := c.expect("op"); m.ID != "a:1" {
			t.Fatalf("got %+v", m)
		}
	}
	// So does the ping timer, on a socket with nothing else to send.
	pinged := make(chan struct{}, 1)
	c := clients[n-1]
	c.ws.SetPingHandler(func(string) error {
		select {
		case pinged <- struct{}{}:
		default:
		}
		return nil
	})
	go func() { _, _, _ = c.ws.ReadMessage() }() // control frames are handled while reading
	select {
	case <-pinged:
	case <-time.After(5 * time.Second):
		t.Fatal("no ping reached an idle socket")
	}
}
