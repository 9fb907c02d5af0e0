//go:build unix

package servertest

import (
	"errors"
	"os"
	"syscall"
)

// lockSupported: the build cache locks its files with flock(2).
const lockSupported = true

// entryLock is an flock(2) lock, held until unlock closes its file.
type entryLock struct{ f *os.File }

// lockExclusive opens (creating) path and waits for an exclusive lock.
func lockExclusive(path string) (*entryLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := flock(f, syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, err
	}
	return &entryLock{f}, nil
}

// lockShared opens path, which must exist, and waits for a shared lock.
// It fails if path was removed or replaced before the lock was taken.
func lockShared(path string) (*entryLock, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return lockOpened(f, path)
}

// lockOpened is lockShared once f is open; it closes f unless it returns
// the lock.
func lockOpened(f *os.File, path string) (*entryLock, error) {
	if err := flock(f, syscall.LOCK_SH); err != nil {
		_ = f.Close()
		return nil, err
	}
	held, err1 := f.Stat()
	now, err2 := os.Stat(path)
	if err1 != nil || err2 != nil || !os.SameFile(held, now) {
		_ = f.Close()
		return nil, errors.New("lock file replaced")
	}
	return &entryLock{f}, nil
}

// tryLockExclusive takes an exclusive lock on path, which must exist, if
// nobody holds one.
func tryLockExclusive(path string) (*entryLock, bool) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, false
	}
	return &entryLock{f}, true
}

func (l *entryLock) unlock() { _ = l.f.Close() }

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}
