//go:build !unix

package servertest

import (
	"errors"
	"os"
)

// lockSupported: without flock(2) there is no build cache; each test
// binary builds the server into a temporary directory.
const lockSupported = false

type entryLock struct{}

var errNoLock = errors.New("no file locks on this system")

func lockExclusive(string) (*entryLock, error) { return nil, errNoLock }
func lockShared(string) (*entryLock, error)    { return nil, errNoLock }
func lockOpened(f *os.File, _ string) (*entryLock, error) {
	_ = f.Close()
	return nil, errNoLock
}
func tryLockExclusive(string) (*entryLock, bool) {
	return nil, false
}
func (*entryLock) unlock() {}
