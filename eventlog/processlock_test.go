package eventlog

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lockHolderEnv makes the test binary a lock holder (see TestMain):
// "<path> exclusive|shared".
const lockHolderEnv = "EVENTLOG_TEST_LOCK_HOLDER"

func TestMain(m *testing.M) {
	if spec := os.Getenv(lockHolderEnv); spec != "" {
		os.Exit(holdLock(spec))
	}
	os.Exit(m.Run())
}

// holdLock is another process: it opens the store, says "open" on stdout
// and keeps it open until stdin closes.
func holdLock(spec string) int {
	path, mode, _ := strings.Cut(spec, " ")
	s, err := Open(path, Config{Shared: mode == "shared"})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("open")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	if err := s.Close(); err != nil {
		fmt.Println("error:", err)
		return 1
	}
	return 0
}

// holder is a child process holding the store's process lock.
type holder struct {
	cmd   *exec.Cmd
	stdin interface{ Close() error }
}

// startHolder runs a process that opens path (shared or exclusive) and
// waits until it has; it is stopped at cleanup.
func startHolder(t *testing.T, path string, shared bool) *holder {
	t.Helper()
	mode := "exclusive"
	if shared {
		mode = "shared"
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockHolderEnv+"="+path+" "+mode)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &holder{cmd: cmd, stdin: in}
	t.Cleanup(func() { h.stop(t) })
	line, err := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "open" {
		t.Fatalf("lock holder (%s): %q, %v", mode, line, err)
	}
	return h
}

func (h *holder) pid() int { return h.cmd.Process.Pid }

// stop lets the holder close its store and exit; idempotent.
func (h *holder) stop(t *testing.T) {
	t.Helper()
	if h.cmd.ProcessState != nil {
		return
	}
	h.stdin.Close()
	if err := h.cmd.Wait(); err != nil && !strings.Contains(err.Error(), "killed") {
		t.Errorf("lock holder: %v", err)
	}
}

// TestProcessLock opens a log that another process has open, in each
// combination of modes: only shared with shared succeeds; a refusal names
// the lock file and, when the holder is exclusive, its pid; a refused Open
// does not create the database.
func TestProcessLock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		holderShared, openShared bool
		ok                       bool
	}{
		{false, false, false},
		{false, true, false},
		{true, false, false},
		{true, true, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("held shared=%v, open shared=%v", tt.holderShared, tt.openShared), func(t *testing.T) {
			t.Parallel()
			path := tempDB(t)
			h := startHolder(t, path, tt.holderShared)
			s, err := Open(path, Config{Shared: tt.openShared})
			if tt.ok {
				if err != nil {
					t.Fatalf("open beside a shared holder: %v", err)
				}
				defer s.Close()
				mustAppend(t, s, ev("shared", 0))
				return
			}
			if err == nil {
				s.Close()
				t.Fatal("opened a log another process holds in a conflicting mode")
			}
			var le *LockedError
			if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
				t.Fatalf("open: %v, want a *LockedError", err)
			}
			wantPID := 0
			if !tt.holderShared {
				wantPID = h.pid()
			}
			if le.PID != wantPID || le.Shared != tt.openShared || le.File != path+"-process.lock" {
				t.Fatalf("%+v, want pid %d, shared %v, file %s-process.lock", le, wantPID, tt.openShared, path)
			}
			if !strings.Contains(err.Error(), le.File) || wantPID != 0 && !strings.Contains(err.Error(), fmt.Sprintf("(pid %d)", wantPID)) {
				t.Fatalf("message %q does not name the file and the holder", err)
			}
		})
	}
}

// TestProcessLockRefusalTouchesNothing: an Open refused by the lock does
// not create (or migrate) the database behind the holder's back.
func TestProcessLockRefusalTouchesNothing(t *testing.T) {
	t.Parallel()
	path := tempDB(t)
	lock, err := os.Create(path + "-process.lock")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(path, Config{}); !errors.Is(err, ErrLocked) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("open while locked: %v, want ErrLocked", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the refused Open created the database: %v", err)
	}
}

// TestProcessLockFreedByDeath: a holder killed with SIGKILL leaves no
// stale lock; the next exclusive holder records its pid and clears it on
// Close.
func TestProcessLockFreedByDeath(t *testing.T) {
	t.Parallel()
	path := tempDB(t)
	h := startHolder(t, path, false)
	if err := h.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = h.cmd.Wait()
	s, err := Open(path, Config{})
	if err != nil {
		t.Fatalf("open after the holder died: %v", err)
	}
	if got := readLockFile(t, path); got != strconv.Itoa(os.Getpid()) {
		t.Fatalf("lock file holds %q, want this process's pid %d", got, os.Getpid())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readLockFile(t, path); got != "" {
		t.Fatalf("lock file holds %q after Close, want it empty", got)
	}
}

// TestProcessLockWithinOneProcess: Stores of one process on one file share
// its lock (they stand in for several processes in tests); the lock is
// held until the last of them closes.
func TestProcessLockWithinOneProcess(t *testing.T) {
	t.Parallel()
	path := tempDB(t)
	a := openTest(t, path, Config{})
	b := openTest(t, filepath.Join(filepath.Dir(path), ".", filepath.Base(path)), Config{})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, b, ev("one", 0))
	lockedOut(t, path)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	startHolder(t, path, false) // fails unless the lock was released

	sharedPath := tempDB(t)
	openTest(t, sharedPath, Config{Shared: true})
	if s, err := Open(sharedPath, Config{}); !errors.Is(err, ErrLocked) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("exclusive open of a file this process has open shared: %v, want ErrLocked", err)
	}
}

// lockedOut checks that another process cannot open path.
func lockedOut(t *testing.T, path string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockHolderEnv+"="+path+" shared")
	cmd.Stdin = strings.NewReader("\n")
	out, err := cmd.Output()
	if err == nil || !strings.Contains(string(out), "in use by another process (pid "+strconv.Itoa(os.Getpid())+")") {
		t.Fatalf("another process opening %s: %v, %q; want it refused, naming this process", path, err, out)
	}
}

func readLockFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path + "-process.lock")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestReadOnlyBesideTheWriter: a read-only store opens a file that a
// server holds exclusively, sees its commits as they land, and refuses
// every write.
func TestReadOnlyBesideTheWriter(t *testing.T) {
	t.Parallel()
	path := tempDB(t)
	w := openTest(t, path, Config{})
	mustAppend(t, w, ev("d", 0))
	r, err := Open(path, Config{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open beside an exclusive writer: %v", err)
	}
	defer r.Close()
	mustAppend(t, w, ev("d", 1))
	ctx := context.Background()
	if evs, err := r.Events(ctx, "d", 0, 0); err != nil || len(evs) != 2 {
		t.Fatalf("read-only store sees %d events, %v; want the writer's 2", len(evs), err)
	}
	if _, err := r.Append(ctx, ev("d", 2)); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("append through a read-only store: %v, want ErrReadOnly", err)
	}
	if err := r.Health(ctx); err != nil {
		t.Fatalf("health of a read-only store: %v", err)
	}
	// After Close, an append is answered at once, as by any closed store.
	r.Close()
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := r.Append(cctx, ev("d", 2)); !errors.Is(err, ErrClosed) {
		t.Fatalf("append to a closed read-only store: %v, want ErrClosed", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.db"), Config{ReadOnly: true}); err == nil {
		t.Fatal("read-only open of a missing file created it")
	}
}
