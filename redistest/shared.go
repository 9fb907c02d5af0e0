package redistest

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
)

// shared is the cluster SharedCluster hands out, started once per test
// binary: a cluster takes ~5-10 s to create, too long to pay in every test
// that only needs one.
var shared struct {
	once sync.Once
	tb   *mainTB
	c    *Cluster
}

// SharedCluster returns a cluster of 3 masters with a replica each,
// shared by every test of the binary that calls it, started by the first
// call. Tests sharing it must use keys and channels of their own and must
// not kill its nodes (StartCluster a cluster of your own for that). Call
// StopSharedCluster from TestMain after m.Run to stop it and remove its
// directories; on Linux its processes also die with the test binary.
func SharedCluster(tb testing.TB) *Cluster {
	tb.Helper()
	shared.once.Do(func() {
		shared.tb = &mainTB{}
		done := make(chan struct{})
		go func() { // Fatalf ends this goroutine, as testing's does
			defer close(done)
			shared.c = StartCluster(shared.tb, 3, 1)
		}()
		<-done
	})
	if shared.c == nil {
		tb.Fatalf("redistest: shared cluster: %s", shared.tb.failure)
	}
	return shared.c
}

// StopSharedCluster stops the shared cluster, if one was started, and
// removes its directories.
func StopSharedCluster() {
	if shared.tb != nil {
		shared.tb.cleanup()
	}
}

// mainTB is the testing.TB of the shared cluster, which outlives any one
// test: it runs cleanups when StopSharedCluster asks. Methods the
// helpers of this package do not call panic (the embedded TB is nil).
type mainTB struct {
	testing.TB
	mu       sync.Mutex
	cleanups []func()
	failure  string
}

func (m *mainTB) Helper() {}

func (m *mainTB) Fatalf(format string, args ...any) {
	m.mu.Lock()
	m.failure = fmt.Sprintf(format, args...)
	m.mu.Unlock()
	runtime.Goexit()
}

func (m *mainTB) Fatal(args ...any) { m.Fatalf("%s", fmt.Sprint(args...)) }

func (m *mainTB) Logf(format string, args ...any) {}

func (m *mainTB) Cleanup(fn func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cleanups = append(m.cleanups, fn)
}

func (m *mainTB) TempDir() string {
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		m.Fatalf("redistest: temp dir: %v", err)
	}
	m.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// cleanup runs the cleanups in reverse order, as testing does.
func (m *mainTB) cleanup() {
	m.mu.Lock()
	fns := m.cleanups
	m.cleanups = nil
	m.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}
