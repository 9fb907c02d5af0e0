package servertest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/protocol"
	"github.com/collabedit/collab/redistest"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

// roundTrip opens doc on url, sends one op at the snapshot's version and
// returns the snapshot's version and the ack's.
func roundTrip(t *testing.T, url, doc, id string) (snapshot, ack int64) {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	send := func(frame string) {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
			t.Fatal(err)
		}
	}
	recv := func(typ string) protocol.Message {
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		m, err := protocol.DecodeMessage(data)
		if err != nil || m.Type != typ {
			t.Fatalf("got %s (%v), want %s", data, err, typ)
		}
		return m
	}
	send(fmt.Sprintf(`{"type":"open","doc":%q}`, doc))
	snap := recv("snapshot")
	send(fmt.Sprintf(`{"type":"op","doc":%q,"version":%d,"id":%q,"op":["x"]}`, doc, snap.Version, id))
	return snap.Version, recv("ack").Version
}

// TestStartKillRestart: a killed server comes back on the same port and
// data directory, with what it acknowledged.
func TestStartKillRestart(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{Name: "solo"})
	if !strings.HasPrefix(s.URL(), "ws://127.0.0.1:") || !strings.HasSuffix(s.URL(), "/ws") {
		t.Fatalf("URL %q", s.URL())
	}
	if v, ack := roundTrip(t, s.URL(), "d", "t:1"); v != 0 || ack != 0 {
		t.Fatalf("snapshot %d ack %d, want 0 and 0", v, ack)
	}
	addr := s.Addr()
	s.Kill()
	s.Kill() // idempotent
	if s.Running() {
		t.Fatal("running after Kill")
	}
	if _, _, err := websocket.DefaultDialer.Dial(s.URL(), nil); err == nil {
		t.Fatal("dial succeeded after Kill")
	}
	s.Restart()
	if s.Addr() != addr || !s.Running() {
		t.Fatalf("restarted on %s (running %v), want %s", s.Addr(), s.Running(), addr)
	}
	if v, ack := roundTrip(t, s.URL(), "d", "t:2"); v != 1 || ack != 1 {
		t.Fatalf("snapshot %d ack %d after restart, want 1 and 1", v, ack)
	}
	if got := s.Metrics(t)["collab_ops_applied_total"]; got != 1 {
		t.Fatalf("collab_ops_applied_total %v on the second run, want 1", got)
	}
	if got := SumMetrics(t, s, s)["collab_ops_applied_total"]; got != 2 {
		t.Fatalf("summed twice: %v, want 2", got)
	}
	if n := strings.Count(s.Logs(), `"message":"listening"`); n != 2 {
		t.Fatalf("%d listening lines in the logs, want one per run:\n%s", n, s.Logs())
	}
}

// TestStop: SIGTERM shuts the server down cleanly.
func TestStop(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{Args: []string{"-log-level", "info"}})
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v\n%s", err, s.Logs())
	}
	if !strings.Contains(s.Logs(), `"message":"stopped"`) {
		t.Fatalf("no clean stop in the logs:\n%s", s.Logs())
	}
	if err := s.Stop(); err == nil {
		t.Fatal("Stop of a stopped server returned nil")
	}
}

// TestStartFails: a server that cannot start fails the test with its log.
func TestStartFails(t *testing.T) {
	t.Parallel()
	rec := &recordingTB{TB: t}
	func() {
		defer func() { _ = recover() }() // Fatalf ends this function
		Start(rec, Options{Args: []string{"-log-level", "nonsense"}})
	}()
	rec.runCleanups()
	if len(rec.fatals) != 1 || !strings.Contains(rec.fatals[0], "exited before listening") {
		t.Fatalf("fatals %q, want one about the exit", rec.fatals)
	}
}

// TestCrashFailsTheTest: a server ending without Kill or Stop is a crash,
// reported at Cleanup.
func TestCrashFailsTheTest(t *testing.T) {
	t.Parallel()
	rec := &recordingTB{TB: t}
	s := Start(rec, Options{Name: "victim"})
	if err := s.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "the server to exit after SIGTERM", func() bool { return !s.Running() })
	rec.runCleanups()
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "victim exited by itself") {
		t.Fatalf("errors %q, want one about the crash", rec.errors)
	}
}

// TestPID: PID names the latest run's process, a new one after Restart.
func TestPID(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{})
	first := s.PID()
	if first <= 0 || syscall.Kill(first, 0) != nil {
		t.Fatalf("PID %d is not a running process", first)
	}
	if want := fmt.Sprintf(`"run 1 started","pid":%d`, first); !strings.Contains(s.Logs(), want) {
		t.Fatalf("no %s in the logs:\n%s", want, s.Logs())
	}
	s.Kill()
	if s.PID() != first {
		t.Fatalf("PID %d after Kill, want the last run's %d", s.PID(), first)
	}
	if err := syscall.Kill(first, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("signal 0 to the killed run's pid %d: %v, want ESRCH", first, err)
	}
	s.Restart()
	if second := s.PID(); second == first || syscall.Kill(second, 0) != nil {
		t.Fatalf("PID %d after Restart (first run %d)", second, first)
	}
}

// TestWait: Wait reports a running server as still running, and returns
// the exit status of one the test ended with a signal, which is then not
// a crash.
func TestWait(t *testing.T) {
	t.Parallel()
	rec := &recordingTB{TB: t}
	s := Start(rec, Options{Name: "waited", Args: []string{"-log-level", "info"}})
	if err := s.Wait(0); !errors.Is(err, ErrStillRunning) {
		t.Fatalf("Wait(0) on a running server: %v, want ErrStillRunning", err)
	}
	if err := s.Wait(50 * time.Millisecond); !errors.Is(err, ErrStillRunning) {
		t.Fatalf("Wait(50ms) on a running server: %v, want ErrStillRunning", err)
	}
	if !s.Running() {
		t.Fatal("Wait stopped the server")
	}
	if err := s.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(20 * time.Second); err != nil {
		t.Fatalf("Wait after SIGTERM: %v, want a clean exit\n%s", err, s.Logs())
	}
	if s.Running() || !strings.Contains(s.Logs(), `"message":"stopped"`) {
		t.Fatalf("running %v after Wait; logs:\n%s", s.Running(), s.Logs())
	}

	// A run that exits with an error: Wait returns its status.
	s.Restart()
	if err := s.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var ee *exec.ExitError
	if err := s.Wait(20 * time.Second); !errors.As(err, &ee) || ee.Success() {
		t.Fatalf("Wait after SIGKILL: %v, want an unsuccessful *exec.ExitError", err)
	}
	rec.runCleanups()
	if len(rec.errors)+len(rec.fatals) != 0 {
		t.Fatalf("errors %q fatals %q: an exit Wait saw was reported", rec.errors, rec.fatals)
	}
}

// TestStartCluster: n processes on one data directory and one Redis,
// named by their -process-id, each on its own port, serving one log.
func TestStartCluster(t *testing.T) {
	t.Parallel()
	rds := redistest.Start(t)
	procs := StartCluster(t, 2, "", "-redis-url", rds.URL())
	if len(procs) != 2 {
		t.Fatalf("%d servers, want 2", len(procs))
	}
	for i, p := range procs {
		id := fmt.Sprintf("p%d", i)
		if p.Name() != id || p.Dir() != procs[0].Dir() || !p.Running() {
			t.Fatalf("server %d: name %q dir %q running %v; want %q in %q, running", i, p.Name(), p.Dir(), p.Running(), id, procs[0].Dir())
		}
		if !strings.Contains(p.Logs(), `-process-id `+id+` -redis-url`) {
			t.Fatalf("%s did not run with -process-id %s:\n%s", id, id, p.Logs())
		}
	}
	if procs[0].Addr() == procs[1].Addr() {
		t.Fatalf("both servers on %s", procs[0].Addr())
	}
	// An op acknowledged by p0 is in the log p1 serves.
	if v, ack := roundTrip(t, procs[0].URL(), "shared", "t:1"); v != 0 || ack != 0 {
		t.Fatalf("p0: snapshot %d ack %d, want 0 and 0", v, ack)
	}
	if v, _ := roundTrip(t, procs[1].URL(), "shared", "t:2"); v != 1 {
		t.Fatalf("p1: snapshot at version %d, want 1", v)
	}
}

// recordingTB records Errorf and Fatalf (which panics instead of
// stopping the goroutine) and holds Cleanup functions for runCleanups.
type recordingTB struct {
	testing.TB
	mu       sync.Mutex
	errors   []string
	fatals   []string
	cleanups []func()
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.fatals = append(r.fatals, fmt.Sprintf(format, args...))
	r.mu.Unlock()
	panic("fatal")
}

func (r *recordingTB) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.errors)+len(r.fatals) > 0
}

func (r *recordingTB) Logf(string, ...any) {}

func (r *recordingTB) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

func (r *recordingTB) runCleanups() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}
