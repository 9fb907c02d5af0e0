package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/collabedit/collab/protocol"
	"github.com/collabedit/collab/servertest"
)

func dialWS(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

func readMsg(t *testing.T, ws *websocket.Conn) (protocol.Message, error) {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := ws.ReadMessage()
	if err != nil {
		return protocol.Message{}, err
	}
	return protocol.DecodeMessage(data)
}

// TestCrashLosesNoAcknowledgedOp pipelines edits, kills the server with
// SIGKILL while ops are in flight, restarts it on the same data and checks
// that every acknowledged op is there exactly once.
func TestCrashLosesNoAcknowledgedOp(t *testing.T) {
	t.Parallel()
	// The writer pipelines 3,000 ops at full speed: over the default rate.
	srv := servertest.Start(t, servertest.Options{Args: []string{"-rate", "1e9"}})
	ws := dialWS(t, srv.URL())
	ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"open","doc":"crash"}`))
	if m, err := readMsg(t, ws); err != nil || m.Type != "snapshot" {
		t.Fatalf("open: %+v %v", m, err)
	}
	// Token i is "<i>," appended at the end: the text tells which ops landed.
	const total = 3000
	go func() {
		length := 0
		for i := 0; i < total; i++ {
			tok := fmt.Sprintf("%d,", i)
			frame := fmt.Sprintf(`{"type":"op","doc":"crash","version":%d,"id":"w:%d","op":[%d,%q]}`, i, i, length, tok)
			if length == 0 {
				frame = fmt.Sprintf(`{"type":"op","doc":"crash","version":0,"id":"w:0","op":[%q]}`, tok)
			}
			length += len(tok)
			if ws.WriteMessage(websocket.TextMessage, []byte(frame)) != nil {
				return
			}
		}
	}()
	acked := map[int64]bool{}
	for len(acked) < 300 {
		m, err := readMsg(t, ws)
		if err != nil || m.Type != "ack" {
			t.Fatalf("waiting for acks: %+v %v", m, err)
		}
		acked[m.Version] = true
	}
	srv.Kill()
	// Acks already on the wire count too: they were sent after the commit.
	for {
		m, err := readMsg(t, ws)
		if err != nil {
			break
		}
		if m.Type == "ack" {
			acked[m.Version] = true
		}
	}

	srv.Restart()
	ws2 := dialWS(t, srv.URL())
	ws2.WriteMessage(websocket.TextMessage, []byte(`{"type":"open","doc":"crash"}`))
	snap, err := readMsg(t, ws2)
	if err != nil || snap.Type != "snapshot" {
		t.Fatalf("reopen: %+v %v", snap, err)
	}
	tokens := strings.Split(strings.TrimSuffix(snap.Text, ","), ",")
	if int64(len(tokens)) != snap.Version {
		t.Fatalf("version %d but %d ops in the text", snap.Version, len(tokens))
	}
	for i, tok := range tokens {
		if tok != fmt.Sprint(i) {
			t.Fatalf("op %d is %q: an op was lost, doubled or reordered", i, tok)
		}
	}
	for v := range acked {
		if v >= snap.Version {
			t.Fatalf("op at version %d was acknowledged but is gone after the crash (stored %d)", v, snap.Version)
		}
	}
	t.Logf("%d ops acknowledged before SIGKILL, %d stored", len(acked), snap.Version)
}

// TestSIGTERMShutsDownGracefully: sockets get 1001 and the process exits 0.
func TestSIGTERMShutsDownGracefully(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{})
	ws := dialWS(t, srv.URL())
	ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"open","doc":"d"}`))
	if _, err := readMsg(t, ws); err != nil {
		t.Fatal(err)
	}
	if err := srv.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_, err := readMsg(t, ws)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != protocol.CloseGoingAway {
		t.Fatalf("socket ended with %v, want close %d", err, protocol.CloseGoingAway)
	}
	if err := srv.Wait(20 * time.Second); errors.Is(err, servertest.ErrStillRunning) {
		t.Fatal("server did not exit after SIGTERM")
	} else if err != nil {
		t.Fatalf("server exited with %v\n%s", err, srv.Logs())
	}
	if !strings.Contains(srv.Logs(), `"stopped"`) {
		t.Fatalf("no clean stop in the logs:\n%s", srv.Logs())
	}
}

// TestFlagsFromEnvironment is not parallel: it sets environment
// variables, which the servers other tests start would inherit.
func TestFlagsFromEnvironment(t *testing.T) {
	t.Setenv("COLLAB_ADDR", ":9999")
	t.Setenv("COLLAB_RATE", "5")
	o, err := parseFlags([]string{"-rate", "7"})
	if err != nil {
		t.Fatal(err)
	}
	if o.addr != ":9999" || o.hub.RatePerSecond != 7 {
		t.Fatalf("addr %q rate %g: want env for addr and the flag for rate", o.addr, o.hub.RatePerSecond)
	}
	t.Setenv("COLLAB_RATE", "fast")
	if _, err := parseFlags(nil); err == nil {
		t.Fatal("a bad environment value was accepted")
	}
}

func TestAdvertiseURL(t *testing.T) {
	t.Parallel()
	tcp := func(s string) net.Addr { return net.TCPAddrFromAddrPort(netip.MustParseAddrPort(s)) }
	tests := []struct {
		flag string
		addr net.Addr
		want string // "" with wantErr
		err  bool
	}{
		{"", tcp("127.0.0.1:8080"), "", false},
		{"wss://edit.example.com/ws", tcp("0.0.0.0:8080"), "wss://edit.example.com/ws", false},
		{"auto", tcp("127.0.0.1:8080"), "ws://127.0.0.1:8080/ws", false},
		{"auto", tcp("[::1]:9000"), "ws://[::1]:9000/ws", false},
		{"auto", tcp("0.0.0.0:8080"), "", true},
		{"auto", tcp("[::]:8080"), "", true},
	}
	for _, tt := range tests {
		got, err := advertiseURL(tt.flag, tt.addr)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("advertiseURL(%q, %v) = %q, %v; want %q, error %v", tt.flag, tt.addr, got, err, tt.want, tt.err)
		}
	}
}

// TestPprof: -pprof-addr serves the profiler on its own listener.
func TestPprof(t *testing.T) {
	t.Parallel()
	addr, stop, err := servePprof("127.0.0.1:0", zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	resp, err := http.Get("http://" + addr + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if _, _, err := servePprof(addr, zerolog.Nop()); err == nil {
		t.Fatal("a second profiler on a taken address started")
	}
}
