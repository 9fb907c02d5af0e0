package eventlog

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// processLock keeps two servers that do not coordinate from writing one
// log. SQLite's guards keep the log consistent, but each server would
// sequence the same documents on its own and their clients would diverge.
// Open takes a flock on <file>-process.lock, non-blocking: exclusive by
// default, shared with Config.Shared (processes whose documents are leased
// through Redis). A process that dies loses its flock with its last file
// descriptor, so a crash never leaves a stale lock.
//
// The lock belongs to the process, not to a Store: flock conflicts between
// two descriptors even in one process, so Stores of one process on one
// file (tests that stand in for several processes) share one descriptor,
// counted, and the last Close unlocks it.
type processLock struct {
	f         *os.File
	key       fileKey
	exclusive bool
	refs      int // Stores of this process using it; guarded by processLocks.mu
}

// fileKey identifies a lock file however it was named.
type fileKey struct{ dev, ino uint64 }

var processLocks = struct {
	mu sync.Mutex
	m  map[fileKey]*processLock
}{m: make(map[fileKey]*processLock)}

// acquireProcessLock takes (or shares, within this process) the process
// lock of the log at dbPath. The error wraps ErrLocked when another
// process holds it in a conflicting mode.
func acquireProcessLock(dbPath string, shared bool) (*processLock, error) {
	name := dbPath + "-process.lock"
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open process lock: %w", err)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, fmt.Errorf("stat process lock %s: %w", name, err)
	}
	key := fileKey{uint64(st.Dev), st.Ino}
	processLocks.mu.Lock()
	defer processLocks.mu.Unlock()
	if l := processLocks.m[key]; l != nil {
		f.Close()
		if !shared && !l.exclusive {
			// Upgrading would first drop the shared lock (flock(2) does not
			// convert atomically), letting another process in between.
			return nil, fmt.Errorf("%s is open with Config.Shared in this process, so it cannot be opened exclusively: %w", name, ErrLocked)
		}
		l.refs++
		return l, nil
	}
	how := syscall.LOCK_EX
	if shared {
		how = syscall.LOCK_SH
	}
	if err := flockSettled(f, how); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &LockedError{File: name, PID: readPID(f), Shared: shared}
		}
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := recordHolder(f, !shared); err != nil {
		f.Close() // closing the last descriptor drops the flock
		return nil, fmt.Errorf("write process lock %s: %w", name, err)
	}
	l := &processLock{f: f, key: key, exclusive: !shared, refs: 1}
	processLocks.m[key] = l
	return l, nil
}

// recordHolder writes this process's pid into the lock file when it holds
// it exclusively, so a refused Open can name the holder. A shared holder
// empties the file: a pid left there by a crashed exclusive holder would
// point the operator at the wrong process.
func recordHolder(f *os.File, exclusive bool) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if !exclusive {
		return nil
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// readPID reads the holder's pid from the lock file, 0 if there is none.
func readPID(f *os.File) int {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// release gives up one Store's use of the lock; the last one unlocks it,
// emptying the file first so no pid outlives its holder.
func (l *processLock) release() error {
	processLocks.mu.Lock()
	defer processLocks.mu.Unlock()
	if l.refs--; l.refs > 0 {
		return nil
	}
	delete(processLocks.m, l.key)
	var err error
	if l.exclusive {
		err = l.f.Truncate(0)
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// forkWindow is how long a refused flock is retried before Open reports
// the log locked. A lock file closed by this process can stay locked for
// a moment after: a child forked meanwhile (by any goroutine: exec.Command)
// holds a copy of every descriptor until its exec closes them. Under -race
// on the loaded 2-core VM that window was long enough for a Store reopened
// right after Close to be refused by its own closed lock (TestCloseDrainsQueue:
// 2 failures in 6 runs beside tests that fork mkfs and mount). 500 ms is
// far beyond any fork-to-exec; a real holder costs a refused Open 500 ms.
const forkWindow = 500 * time.Millisecond

// flockSettled takes the flock without blocking, retrying EWOULDBLOCK
// for forkWindow.
func flockSettled(f *os.File, how int) error {
	deadline := time.Now().Add(forkWindow)
	for {
		err := flockRetry(f, how|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func flockRetry(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}
