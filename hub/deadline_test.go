package hub_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/collabedit/collab/hub"
)

// TestBusySocketsOutliveTheirTimers: sockets stay up for many ping
// intervals and write timeouts while ops flow. A writer and a passive
// reader run for 15 ping intervals (22 write timeouts); every op reaches
// the reader and no connection is dropped. Before the socket writer set
// its deadline on the net.Conn, both were dropped one ping interval plus
// one write timeout after connecting (35 s with the defaults).
func TestBusySocketsOutliveTheirTimers(t *testing.T) {
	t.Parallel()
	// 200 ms for a write on loopback leaves room for a loaded CI machine
	// under -race; the defect dropped every socket after ping+write.
	const ping, write = 300 * time.Millisecond, 200 * time.Millisecond
	s := startServer(t, hub.Config{PingInterval: ping, WriteTimeout: write, PongWait: 10 * ping})
	writer, reader := dial(t, s.URL), dial(t, s.URL)
	writer.open("busy")
	reader.open("busy")
	deadline := time.Now().Add(15 * ping)
	n := 0
	for ; time.Now().Before(deadline); n++ {
		writer.send(fmt.Sprintf(`{"type":"op","doc":"busy","version":%d,"id":"w:%d","op":["x"]}`, n, n))
		if m := writer.expect("ack"); m.Version != int64(n) {
			t.Fatalf("ack %d at version %d", n, m.Version)
		}
		if m := reader.expect("op"); m.Version != int64(n) {
			t.Fatalf("reader got version %d, want %d", m.Version, n)
		}
		time.Sleep(10 * time.Millisecond) // a typist's pace: the subject is a socket busy over time, not a wait
	}
	// Busy: more than two ops per ping interval throughout (each waits
	// for an fsync, slow on a loaded machine; ~150 on a quiet one).
	if n < 30 {
		t.Fatalf("only %d ops in %v", n, 15*ping)
	}
}
