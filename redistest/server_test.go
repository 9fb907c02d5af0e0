package redistest

import (
	"bufio"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// do sends one command in RESP and returns the first reply line.
func do(t *testing.T, addr string, args ...string) (string, error) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	var b strings.Builder
	b.WriteString("*" + itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return "", err
	}
	rd := bufio.NewReader(c)
	line, err := rd.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSpace(line)
	if strings.HasPrefix(line, "$") && line != "$-1" {
		v, err := rd.ReadString('\n')
		return strings.TrimSpace(v), err
	}
	return line, nil
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var d []byte
	for ; n > 0; n /= 10 {
		d = append([]byte{byte('0' + n%10)}, d...)
	}
	return string(d)
}

func TestStartKillRestart(t *testing.T) {
	t.Parallel()
	s := Start(t)
	if !strings.HasPrefix(s.URL(), "redis://127.0.0.1:") || !strings.HasSuffix(s.URL(), s.Addr()) {
		t.Fatalf("URL %q, Addr %q", s.URL(), s.Addr())
	}
	if got, err := do(t, s.Addr(), "SET", "k", "v"); err != nil || got != "+OK" {
		t.Fatalf("SET: %q, %v", got, err)
	}
	if got, err := do(t, s.Addr(), "GET", "k"); err != nil || got != "v" {
		t.Fatalf("GET: %q, %v", got, err)
	}

	s.Kill()
	if _, err := do(t, s.Addr(), "PING"); err == nil {
		t.Fatal("PING succeeded after Kill")
	}
	s.Kill() // idempotent

	addr := s.Addr()
	s.Restart()
	if s.Addr() != addr {
		t.Fatalf("Restart moved from %s to %s", addr, s.Addr())
	}
	if got, err := do(t, s.Addr(), "PING"); err != nil || got != "+PONG" {
		t.Fatalf("PING after Restart: %q, %v", got, err)
	}
	// No persistence: the key written before the crash is gone.
	if got, err := do(t, s.Addr(), "GET", "k"); err != nil || got != "$-1" {
		t.Fatalf("GET after Restart: %q, %v; want nil reply", got, err)
	}
}

func TestTwoServersDistinctPorts(t *testing.T) {
	t.Parallel()
	a, b := Start(t), Start(t)
	if a.Addr() == b.Addr() {
		t.Fatalf("both servers on %s", a.Addr())
	}
}

// TestPauseResume: a paused server keeps its port but answers nothing;
// resumed, it answers again with its data intact. Kill and Restart work
// on a paused server.
func TestPauseResume(t *testing.T) {
	t.Parallel()
	s := Start(t)
	if got, err := do(t, s.Addr(), "SET", "k", "v"); err != nil || got != "+OK" {
		t.Fatalf("SET: %q, %v", got, err)
	}
	s.Pause()
	s.Pause() // idempotent
	// The kernel still completes the handshake (the listening socket is
	// open), so a paused server is seen as a timeout, not a refusal.
	err := ping(s.Addr())
	var ne net.Error
	if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("PING while paused: %v, want a timeout", err)
	}
	s.Resume()
	s.Resume() // idempotent
	if got, err := do(t, s.Addr(), "GET", "k"); err != nil || got != "v" {
		t.Fatalf("GET after Resume: %q, %v", got, err)
	}

	s.Pause()
	s.Restart() // kills the stopped process and starts a new one
	if got, err := do(t, s.Addr(), "PING"); err != nil || got != "+PONG" {
		t.Fatalf("PING after Restart of a paused server: %q, %v", got, err)
	}
	s.Pause()
	done := make(chan struct{})
	go func() {
		s.Kill()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Kill of a paused server did not return")
	}
	s.Resume() // of a killed server: nothing
}
