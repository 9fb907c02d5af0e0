package servertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collabedit/collab/internal/poll"
)

const (
	// stopGrace is how long Stop waits after SIGTERM: the server's own
	// -shutdown-timeout defaults to 15 s, plus time to close the log.
	stopGrace = 30 * time.Second
	// restartTimeout bounds how long Restart keeps trying the old port:
	// Go listeners set SO_REUSEADDR, so it is normally free at once, but
	// another process may hold it for a moment.
	restartTimeout = 2 * time.Second
)

// ErrStillRunning is what Wait returns, wrapped, when the server has not
// exited within its timeout.
var ErrStillRunning = errors.New("still running")

// Options configure Start. All are optional.
type Options struct {
	// Name labels the server in logs and failure reports, e.g. "p0".
	// Default "server".
	Name string
	// Dir is the data directory (-data). Default: a new tb.TempDir().
	Dir string
	// Addr is the listen address of the first run. Default 127.0.0.1:0,
	// a free loopback port.
	Addr string
	// Args are further flags. They follow -addr, -data and -log-format
	// json, so they may override the first two; -log-format must stay
	// json, which is how Start finds the "listening" line.
	Args []string
	// Binary is the server binary. Default: Binary(tb).
	Binary string
}

// Server is a server binary run as a child process, across restarts.
// Start creates it; the test's Cleanup kills it. Its methods are safe for
// concurrent use.
type Server struct {
	tb   testing.TB
	name string
	bin  string
	dir  string
	args []string
	log  *logFile

	mu      sync.Mutex
	cur     *run     // the latest run
	runs    int      // runs started so far
	crashed []string // runs that exited by themselves, described
}

// Start runs the server with opts and waits until it listens. It fails tb
// if the server does not start.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if opts.Name == "" {
		opts.Name = "server"
	}
	if opts.Dir == "" {
		opts.Dir = tb.TempDir()
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Binary == "" {
		opts.Binary = Binary(tb)
	}
	log, err := newLogFile(tb.TempDir(), opts.Name)
	if err != nil {
		tb.Fatalf("servertest: %v", err)
	}
	s := &Server{tb: tb, name: opts.Name, bin: opts.Binary, dir: opts.Dir, args: opts.Args, log: log}
	// Registered after the TempDirs above, so it runs before they are
	// removed.
	tb.Cleanup(s.cleanup)
	if err := s.start(opts.Addr); err != nil {
		tb.Fatalf("servertest: %s: %v", s.name, err)
	}
	return s
}

// Name returns the server's label.
func (s *Server) Name() string { return s.name }

// Dir returns the data directory.
func (s *Server) Dir() string { return s.dir }

// Addr returns the host:port the latest run listens (or listened) on.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur.addr
}

// AdminAddr returns the host:port of the latest run's admin listener
// (/metrics, /admin/revoke), "" if it has none.
func (s *Server) AdminAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur.admin
}

// URL returns the WebSocket endpoint, ws://host:port/ws.
func (s *Server) URL() string { return "ws://" + s.Addr() + "/ws" }

// PID returns the process id of the latest run, e.g. to read its memory
// from /proc. The id stays that of the last run after it exits, until
// Restart starts another.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur.cmd.Process.Pid
}

// Running reports whether the latest run is still running.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.cur.done()
}

// Kill stops the server with SIGKILL, as a crash or an OOM kill would, and
// waits for it to exit. Killing a stopped server does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	r := s.cur
	s.mu.Unlock()
	s.noteCrash(r)
	if !r.done() {
		r.kill()
	}
}

// Stop asks the server to shut down with SIGTERM and waits for it (at most
// 30 s, then kills it). It returns the exit status: nil for a clean exit.
func (s *Server) Stop() error {
	s.mu.Lock()
	r := s.cur
	s.mu.Unlock()
	s.noteCrash(r)
	if r.done() {
		return fmt.Errorf("%s: not running (exited with %v)", s.name, r.err)
	}
	return r.terminate(stopGrace)
}

// Signal sends sig to the running server without changing what the test
// expects of it: SIGSTOP and SIGCONT freeze and thaw it, and a signal that
// ends it counts as the server exiting by itself unless Wait then sees the
// exit. Use Kill and Stop to end it on purpose.
func (s *Server) Signal(sig os.Signal) error {
	s.mu.Lock()
	r := s.cur
	s.mu.Unlock()
	if err := r.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("%s: signal %v: %w", s.name, sig, err)
	}
	return nil
}

// Wait waits up to timeout for the latest run to exit, and returns its
// exit status: nil for a clean exit, an *exec.ExitError otherwise. It is
// for a run the test expects to end by itself, such as after
// Signal(syscall.SIGTERM): a run Wait has seen exit is not reported as a
// crash at Cleanup. If the run is still running after timeout (at once for
// a timeout of 0) Wait leaves it running and returns an error wrapping
// ErrStillRunning.
func (s *Server) Wait(timeout time.Duration) error {
	s.mu.Lock()
	r := s.cur
	s.mu.Unlock()
	if !r.done() {
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-r.exited:
		case <-t.C:
			return fmt.Errorf("%s: %w after %v", s.name, ErrStillRunning, timeout)
		}
	}
	r.stopped.Store(true)
	return r.err
}

// Restart starts the server again, killing it first if it runs, on the
// same data directory, flags and port, so clients find it at the same URL.
// It fails the test if the server does not start.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Kill()
	addr := s.Addr()
	ctx, cancel := context.WithTimeout(context.Background(), restartTimeout)
	defer cancel()
	var err error
	if poll.Wait(ctx, func() bool { err = s.start(addr); return err == nil }) {
		return
	}
	s.tb.Fatalf("servertest: restart %s on %s: %v", s.name, addr, err)
}

// Logs returns everything the server wrote, all runs, one JSON object per
// line, with a servertest line where each run started and ended.
func (s *Server) Logs() string { return s.log.contents() }

// start begins a new run listening on addr.
func (s *Server) start(addr string) error {
	s.mu.Lock()
	s.runs++
	n := s.runs
	s.mu.Unlock()
	// The admin listener on a free port of its own: parallel servers
	// cannot share the default one. Args may override it.
	args := append([]string{"-addr", addr, "-data", s.dir, "-log-format", "json", "-admin-addr", "127.0.0.1:0"}, s.args...)
	r, err := startRun(n, s.bin, args, s.log)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.cur = r
	s.mu.Unlock()
	return nil
}

// noteCrash records r if it exited without being asked to.
func (s *Server) noteCrash(r *run) {
	if !r.done() || r.stopped.Load() {
		return
	}
	r.stopped.Store(true) // recorded once
	s.mu.Lock()
	s.crashed = append(s.crashed, fmt.Sprintf("run %d (pid %d): %v", r.n, r.cmd.Process.Pid, r.err))
	s.mu.Unlock()
}

// cleanup kills the server, fails the test if a run exited by itself, and
// reports the log's tail on failure.
func (s *Server) cleanup() {
	if s.cur != nil {
		s.Kill()
	}
	s.mu.Lock()
	crashed := s.crashed
	s.mu.Unlock()
	if len(crashed) > 0 {
		s.tb.Errorf("servertest: %s exited by itself: %s", s.name, strings.Join(crashed, "; "))
	}
	if s.tb.Failed() {
		s.tb.Logf("servertest: last lines of %s's log:\n%s", s.name, s.log.lastLines())
		if dir := os.Getenv("SERVERTEST_KEEP_LOGS"); dir != "" {
			name := strings.NewReplacer("/", "_", " ", "_").Replace(s.tb.Name()) + "-" + s.name
			if err := s.log.keep(dir, name); err != nil {
				s.tb.Logf("servertest: %v", err)
			}
		}
	}
	s.log.close()
}
