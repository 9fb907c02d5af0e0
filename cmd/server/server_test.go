package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/collabedit/collab/protocol"
)

type child struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, set before done closes
	logs *strings.Builder
}

// buildServer compiles this command into a temporary directory.
func buildServer(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "server")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build server: %v\n%s", err, out)
	}
	return bin
}

// startChild runs the server on a free loopback port with its data in dir
// and waits for its "listening" log line; it is killed when tb ends.
func startChild(tb testing.TB, bin, dir string, extra ...string) *child {
	tb.Helper()
	args := append([]string{"-addr", "127.0.0.1:0", "-data", dir, "-log-format", "json"}, extra...)
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start server: %v", err)
	}
	c := &child{cmd: cmd, done: make(chan struct{}), logs: &strings.Builder{}}
	addr := make(chan string, 1)
	var logMu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			logMu.Lock()
			c.logs.WriteString(line + "\n")
			logMu.Unlock()
			var rec struct{ Message, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Message == "listening" {
				addr <- rec.Addr
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		c.err = cmd.Wait()
		close(c.done)
	}()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
	})
	select {
	case c.addr = <-addr:
	case <-time.After(30 * time.Second):
		tb.Fatal("server did not start listening")
	}
	return c
}

func (c *child) url() string { return "ws://" + c.addr + "/ws" }

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
	bin := buildServer(t)
	dir := t.TempDir()
	// The writer pipelines 3,000 ops at full speed: over the default rate.
	srv := startChild(t, bin, dir, "-rate", "1e9")
	ws := dialWS(t, srv.url())
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
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
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
	<-srv.done

	srv = startChild(t, bin, dir, "-rate", "1e9")
	ws2 := dialWS(t, srv.url())
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
	srv := startChild(t, buildServer(t), t.TempDir())
	ws := dialWS(t, srv.url())
	ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"open","doc":"d"}`))
	if _, err := readMsg(t, ws); err != nil {
		t.Fatal(err)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_, err := readMsg(t, ws)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != protocol.CloseGoingAway {
		t.Fatalf("socket ended with %v, want close %d", err, protocol.CloseGoingAway)
	}
	select {
	case <-srv.done:
		if srv.err != nil {
			t.Fatalf("server exited with %v\n%s", srv.err, srv.logs)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not exit after SIGTERM")
	}
	if !strings.Contains(srv.logs.String(), `"stopped"`) {
		t.Fatalf("no clean stop in the logs:\n%s", srv.logs)
	}
}

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
