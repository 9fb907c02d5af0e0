package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/internal/testproc"
)

const (
	// startAttempts bounds the retries when another process grabs the
	// port between our probe listener closing and redis-server binding it.
	startAttempts = 5
	// restartTimeout bounds how long Restart keeps trying the old port.
	restartTimeout = 2 * time.Second
	// readyTimeout is how long a fresh redis-server gets to answer PING;
	// an empty server is ready in ~10 ms, so 10 s only guards against a
	// heavily loaded CI machine.
	readyTimeout = 10 * time.Second
	// pingTimeout bounds one readiness probe, so a probe against a port
	// that accepts but never answers cannot eat the whole readyTimeout.
	pingTimeout = 500 * time.Millisecond
)

// Server is a redis-server child process listening on a loopback port,
// with its own temporary directory and no persistence (--save "",
// --appendonly no). Start creates it; the test's Cleanup stops it.
type Server struct {
	tb   testing.TB
	bin  string
	dir  string
	port int
	// cport is a cluster node's cluster bus port, 0 for a plain server.
	// It is chosen like port, rather than left at port+10000, which may
	// be taken or above 65535.
	cport int
	// cluster makes the server a cluster node (see StartCluster).
	cluster bool

	mu     sync.Mutex
	proc   *testproc.Process // nil while killed
	paused bool              // proc is stopped with SIGSTOP
}

// Start launches redis-server on a free port of 127.0.0.1 and waits until
// it answers PING. It stops the server in tb.Cleanup. It fails the test,
// never skips it, when redis-server is not on PATH.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return start(tb, false)
}

// start is Start, of a cluster node if cluster is set.
func start(tb testing.TB, cluster bool) *Server {
	tb.Helper()
	bin := lookPath(tb, "redis-server")
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir(), cluster: cluster}
	// Registered after TempDir's own cleanup, so it runs before it: the
	// server stops before its directory is removed.
	tb.Cleanup(s.Kill)

	var lastErr error
	for attempt := 0; attempt < startAttempts; attempt++ {
		port, err := testproc.FreePort()
		if err != nil {
			lastErr = err
			continue
		}
		s.port = port
		if cluster {
			if s.cport, err = testproc.FreePort(); err != nil {
				lastErr = err
				continue
			}
		}
		if lastErr = s.start(); lastErr == nil {
			return s
		}
	}
	tb.Fatalf("redistest: start redis-server after %d attempts: %v", startAttempts, lastErr)
	return nil
}

// lookPath finds a Redis binary or fails tb, never skips it.
func lookPath(tb testing.TB, name string) string {
	tb.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		tb.Fatalf("redistest: %s is not on PATH (%v); run ./scripts/test.sh, which installs it (Debian package redis-server)", name, err)
	}
	return bin
}

// URL returns the server's address as redis://127.0.0.1:port, the form
// redis.ParseURL accepts.
func (s *Server) URL() string { return "redis://" + s.Addr() }

// Addr returns the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Kill stops the server with SIGKILL, as a crash or an outage would, and
// waits for the process to exit. Clients see their connections reset and
// new ones refused until Restart. Killing a killed server does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	p := s.proc
	s.proc, s.paused = nil, false
	s.mu.Unlock()
	if p == nil {
		return
	}
	p.Kill() // SIGKILL ends a stopped process too
}

// Pause stops the server with SIGSTOP, as a stalled host, a swapped-out
// process or a long fork for a snapshot would: its port and connections
// stay open and the kernel still accepts new ones, but nothing is
// answered, so clients see timeouts rather than refused connections, and
// keys do not expire meanwhile. Resume continues it; keys whose TTL passed
// while it was stopped expire then. Pausing a paused or killed server does
// nothing.
func (s *Server) Pause() {
	s.tb.Helper()
	s.signal(syscall.SIGSTOP, true)
}

// Resume continues a paused server with SIGCONT. Resuming a running or
// killed server does nothing.
func (s *Server) Resume() {
	s.tb.Helper()
	s.signal(syscall.SIGCONT, false)
}

// signal sends sig unless the server is already in the state pause
// describes, and records that state.
func (s *Server) signal(sig syscall.Signal, pause bool) {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil || s.paused == pause {
		return
	}
	if err := s.proc.Signal(sig); err != nil {
		s.tb.Fatalf("redistest: %v redis-server on port %d: %v", sig, s.port, err)
	}
	s.paused = pause
}

// Restart starts the server again on the same port, killing it first if
// it is running, and waits until it answers PING. The data is gone, as
// after a crash without persistence.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Kill()
	// The port is normally free at once (redis sets SO_REUSEADDR), but
	// retry for a while in case the kernel is slow to release it.
	ctx, cancel := context.WithTimeout(context.Background(), restartTimeout)
	defer cancel()
	var err error
	if poll.Wait(ctx, func() bool { err = s.start(); return err == nil }) {
		return
	}
	s.tb.Fatalf("redistest: restart redis-server on port %d: %v", s.port, err)
}

// start runs redis-server on s.port and waits for PING to succeed.
func (s *Server) start() error {
	logPath := filepath.Join(s.dir, "redis.log")
	args := []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--logfile", logPath,
		"--loglevel", "warning",
	}
	if s.cluster {
		args = append(args, clusterArgs(s.cport)...)
	}
	cmd := exec.Command(s.bin, args...)
	cmd.SysProcAttr = sysProcAttr()
	// An exit is usually "Address already in use": the caller retries.
	p, err := testproc.Start(cmd, fmt.Sprintf("redis-server on port %d", s.port), logPath, readyTimeout,
		func(context.Context) error { return ping(s.Addr()) })
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	return nil
}

// ping sends one PING over a fresh connection and expects +PONG, speaking
// RESP directly so this package needs no Redis client.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, pingTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(pingTimeout))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		// -LOADING and similar: not ready yet.
		return errors.New("unexpected reply " + strconv.Quote(line))
	}
	return nil
}

// Do runs one command on the server over a fresh connection and returns
// its reply as text (see command), for what the helpers do not cover,
// such as CONFIG SET.
func (s *Server) Do(args ...string) (string, error) { return command(s.Addr(), args...) }
