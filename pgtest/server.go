package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/internal/testenv"
	"github.com/collabedit/collab/internal/testproc"
)

const (
	// startAttempts bounds the retries when another process grabs the
	// port between our probe listener closing and postgres binding it.
	startAttempts = 5
	// readyTimeout is how long postgres gets to accept connections; a
	// fresh cluster is ready in ~0.3 s, crash recovery after Kill in ~1 s
	// here, so 30 s only guards against a heavily loaded CI machine.
	readyTimeout = 30 * time.Second
	// connectTimeout bounds one readiness probe.
	connectTimeout = time.Second
	// stopTimeout is how long Stop waits for a fast shutdown before
	// killing the server.
	stopTimeout = 30 * time.Second
)

// Config chooses how a server runs.
type Config struct {
	// Durable keeps fsync and synchronous_commit on, as in production:
	// for benchmarks whose figures must mean something. The default turns
	// fsync off, which makes tests several times faster and loses nothing
	// a test needs (a crash of the machine ends the test anyway).
	Durable bool
}

// Server is a postgres child process listening on a loopback port, with
// trust authentication for the superuser "postgres".
type Server struct {
	bin  string // directory holding initdb and postgres
	dir  string // temp root: data/, sock/, postgres.log
	port int
	cfg  Config
	cred *syscall.Credential // nil when not root

	mu   sync.Mutex
	proc *testproc.Process // nil while stopped
}

// Start initialises a cluster in a temporary directory, starts postgres
// on a free port of 127.0.0.1 and waits until it accepts connections. The
// server is removed in tb.Cleanup. A missing PostgreSQL ends the test
// through testenv.Missing.
func Start(tb testing.TB) *Server { return StartWith(tb, Config{}) }

// StartWith is Start with cfg.
func StartWith(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	bin, err := binDir()
	if err != nil {
		testenv.Missing(tb, "PostgreSQL (initdb, postgres)", "run ./scripts/test.sh, which installs the Debian package postgresql")
	}
	s, err := newServer(bin, cfg)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(s.remove)
	return s
}

// sharedServer is one of the test binary's shared servers.
type sharedServer struct {
	once sync.Once
	s    *Server
	err  error
}

var (
	// shared holds the fast (fsync off) and the durable shared server.
	shared  = map[Config]*sharedServer{{}: {}, {Durable: true}: {}}
	dbCount atomic.Int64
)

// Shared returns the test binary's one server (fsync off), starting it on
// first use. Call Main from TestMain so it is removed at the end.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	return SharedWith(tb, Config{})
}

// SharedWith is Shared for the server run with cfg: benchmarks take the
// durable one, so their figures include the WAL flush of every commit.
func SharedWith(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	bin, err := binDir()
	if err != nil {
		testenv.Missing(tb, "PostgreSQL (initdb, postgres)", "run ./scripts/test.sh, which installs the Debian package postgresql")
	}
	sh := shared[cfg]
	sh.once.Do(func() { sh.s, sh.err = newServer(bin, cfg) })
	if sh.err != nil {
		tb.Fatalf("pgtest: %v", sh.err)
	}
	return sh.s
}

// Main runs the tests and removes the shared servers that were started;
// use it as os.Exit(pgtest.Main(m)) in TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	Close()
	return code
}

// Close removes the shared servers that were started, for a TestMain that
// cannot use Main (it runs m.Run through another helper).
func Close() {
	for _, sh := range shared {
		if sh.s != nil {
			sh.s.remove()
		}
	}
}

// DB creates a fresh, empty database on the shared server for tb and
// returns its URL; the database is dropped in tb.Cleanup.
func DB(tb testing.TB) string {
	tb.Helper()
	return Shared(tb).DB(tb)
}

// DB creates a fresh, empty database on s for tb and returns its URL; it
// is dropped in tb.Cleanup.
func (s *Server) DB(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbCount.Add(1))
	if err := s.exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil && s.running() {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return s.URL(name)
}

// URL is the connection URL of database db on s.
func (s *Server) URL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Host: s.Addr(), Path: "/" + db,
		RawQuery: "sslmode=disable"}
	return u.String()
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// exec runs one statement in the postgres database.
func (s *Server) exec(q string) error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	c, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	_, err = c.Exec(ctx, q)
	return err
}

func (s *Server) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil
}

// binDir finds the directory of initdb and postgres.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	cands, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Strings(cands) // highest version last (single digits aside, 15 > 14)
	if len(cands) > 0 {
		return filepath.Dir(cands[len(cands)-1]), nil
	}
	if _, err := os.Stat("/usr/local/bin/initdb"); err == nil {
		return "/usr/local/bin", nil
	}
	return "", errors.New("initdb not found on PATH, in /usr/local/bin or /usr/lib/postgresql/*/bin")
}

// newServer runs initdb and starts postgres on a free port.
func newServer(bin string, cfg Config) (*Server, error) {
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dir: dir, cfg: cfg}
	fail := func(err error) (*Server, error) {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	// The unprivileged user must reach its directories through dir.
	if err := os.Chmod(dir, 0o755); err != nil {
		return fail(err)
	}
	for _, d := range []string{"data", "sock"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			return fail(err)
		}
	}
	if os.Getuid() == 0 {
		if s.cred, err = nobody(); err != nil {
			return fail(err)
		}
		for _, p := range []string{filepath.Join(dir, "data"), filepath.Join(dir, "sock"), dir} {
			if err := os.Chown(p, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
				return fail(err)
			}
		}
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"),
		"-U", "postgres", "--auth=trust", "--no-locale", "-E", "UTF8", "--no-sync")
	initdb.SysProcAttr = s.procAttr()
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %w: %s", err, out))
	}
	var lastErr error
	for range startAttempts {
		if s.port, lastErr = testproc.FreePort(); lastErr != nil {
			continue
		}
		if lastErr = s.start(); lastErr == nil {
			return s, nil
		}
	}
	return fail(fmt.Errorf("start postgres after %d attempts: %w", startAttempts, lastErr))
}

// nobody is the credential of the unprivileged user the server runs as.
func nobody() (*syscall.Credential, error) {
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("look up user nobody (initdb refuses root): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func (s *Server) procAttr() *syscall.SysProcAttr {
	a := sysProcAttr()
	if a == nil {
		a = &syscall.SysProcAttr{}
	}
	a.Credential = s.cred
	return a
}

// Start runs postgres again after Stop or Kill, on the same port and
// data, and waits until it accepts connections (after crash recovery,
// following Kill). It does nothing while the server runs.
func (s *Server) Start(tb testing.TB) {
	tb.Helper()
	if s.running() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	var err error
	// After Kill the old backends may hold the shared memory for a
	// moment; postgres refuses to start until they are gone.
	if poll.Wait(ctx, func() bool { err = s.start(); return err == nil }) {
		return
	}
	tb.Fatalf("pgtest: restart postgres on port %d: %v", s.port, err)
}

// Stop shuts the server down cleanly (SIGINT: fast shutdown) and waits
// for it to exit. Clients see their connections closed and new ones
// refused until Start. Stopping a stopped server does nothing.
func (s *Server) Stop() { s.signal(syscall.SIGINT) }

// Kill crashes the server (SIGKILL) and waits for the postmaster to exit.
func (s *Server) Kill() { s.signal(syscall.SIGKILL) }

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p == nil {
		return
	}
	p.Stop(sig, stopTimeout)
}

// remove stops the server and deletes its directory.
func (s *Server) remove() {
	s.Stop()
	_ = os.RemoveAll(s.dir)
}

// start runs postgres on s.port and waits until it accepts connections.
func (s *Server) start() error {
	fsync := "off"
	if s.cfg.Durable {
		fsync = "on"
	}
	logPath := filepath.Join(s.dir, "postgres.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(s.bin, "postgres"),
		"-D", filepath.Join(s.dir, "data"),
		"-p", strconv.Itoa(s.port),
		"-k", filepath.Join(s.dir, "sock"),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync="+fsync,
		"-c", "synchronous_commit="+fsync,
		"-c", "full_page_writes="+fsync,
		// Tests open a pool per Store and several Stores per test.
		"-c", "max_connections=200",
		"-c", "shared_buffers=32MB",
		"-c", "log_min_messages=warning",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = s.procAttr()
	p, err := testproc.Start(cmd, fmt.Sprintf("postgres on port %d", s.port), logPath, readyTimeout, s.ping)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	return nil
}

func (s *Server) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	c, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return err
	}
	return c.Close(context.Background())
}
