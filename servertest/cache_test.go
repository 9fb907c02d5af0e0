//go:build unix

package servertest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collabedit/collab/internal/poll"
)

// fakeBuild is a compile for cachedBuild that writes a small file and
// counts its calls; while gate is not nil it waits for it to close first.
type fakeBuild struct {
	calls atomic.Int32
	gate  chan struct{}
}

func (f *fakeBuild) compile(bin string) error {
	f.calls.Add(1)
	if f.gate != nil {
		<-f.gate
	}
	return os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755)
}

// key returns a fixed key function.
func key(k string) func() (string, error) { return func() (string, error) { return k, nil } }

const (
	keyA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	keyB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// TestCacheBuildsOnceForConcurrentUsers: processes asking at once (here
// goroutines, each with its own lock files) share one build, and later
// ones build nothing.
func TestCacheBuildsOnceForConcurrentUsers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := &fakeBuild{gate: make(chan struct{})}
	var wg sync.WaitGroup
	bins := make([]string, 4)
	for i := range bins {
		wg.Go(func() {
			bin, use, err := cachedBuild(dir, key(keyA), f.compile)
			if err != nil || bin == "" {
				t.Errorf("cachedBuild: %q, %v", bin, err)
				return
			}
			use.unlock()
			bins[i] = bin
		})
	}
	// The first waits in compile while the others queue on build.lock;
	// then it publishes and they find its binary.
	poll.Until(t, "the first build to start", func() bool { return f.calls.Load() > 0 })
	close(f.gate)
	wg.Wait()
	want := filepath.Join(dir, keyA, "server")
	for i, bin := range bins {
		if bin != want {
			t.Errorf("user %d got %q, want %q", i, bin, want)
		}
	}
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("%d builds for one key", n)
	}
	if bin, use, err := cachedBuild(dir, key(keyA), f.compile); bin != want || err != nil || f.calls.Load() != 1 {
		t.Fatalf("a later user: %q, %v, %d builds", bin, err, f.calls.Load())
	} else {
		use.unlock()
	}
}

// TestCacheKeyChangesDuringBuild: a build whose sources changed while it
// ran is published under neither key; the sources as they are then are
// built and published.
func TestCacheKeyChangesDuringBuild(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := &fakeBuild{}
	var calls atomic.Int32
	changing := func() (string, error) {
		if calls.Add(1) == 1 {
			return keyA, nil // before the first build; then the sources change
		}
		return keyB, nil
	}
	bin, use, err := cachedBuild(dir, changing, f.compile)
	if err != nil || bin != filepath.Join(dir, keyB, "server") {
		t.Fatalf("cachedBuild: %q, %v; want the build of %s", bin, err, keyB)
	}
	use.unlock()
	if _, err := os.Stat(filepath.Join(dir, keyA)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a build of changed sources was published under the old key: %v", err)
	}
	if n := f.calls.Load(); n != 2 {
		t.Fatalf("%d builds, want 2", n)
	}
	// Sources that never hold still are not cached.
	var n atomic.Int64
	restless := func() (string, error) { return fmt.Sprintf("%032x", n.Add(1)), nil }
	if bin, _, err := cachedBuild(t.TempDir(), restless, f.compile); bin != "" || err != nil {
		t.Fatalf("cachedBuild of ever-changing sources: %q, %v; want nothing, no error", bin, err)
	}
}

// TestCacheBuildFails: a failed build is reported and nothing published.
func TestCacheBuildFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	boom := errors.New("boom")
	if bin, _, err := cachedBuild(dir, key(keyA), func(string) error { return boom }); bin != "" || !errors.Is(err, boom) {
		t.Fatalf("cachedBuild: %q, %v; want the build's error", bin, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 || ents[0].Name() != "build.lock" {
		t.Fatalf("left in the cache: %v", ents)
	}
}

// TestCachePrune: a new build keeps the keepBuilds most recently used,
// and those a process still uses, and removes the rest and leftovers of
// crashed builds; an entry without its binary is rebuilt.
func TestCachePrune(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := &fakeBuild{}
	keys := []string{"11111111111111111111111111111111", "22222222222222222222222222222222",
		"33333333333333333333333333333333", "44444444444444444444444444444444", "55555555555555555555555555555555"}
	for i, k := range keys {
		entry := filepath.Join(dir, k)
		if err := os.Mkdir(entry, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"server", "use.lock"} {
			if err := os.WriteFile(filepath.Join(entry, name), nil, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		used := time.Now().Add(-time.Duration(len(keys)-i) * time.Hour) // keys[0] the least recently used
		if err := os.Chtimes(entry, used, used); err != nil {
			t.Fatal(err)
		}
	}
	// Some process still runs keys[0]'s build.
	inUse, err := lockShared(filepath.Join(dir, keys[0], "use.lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer inUse.unlock()
	for _, d := range []string{"tmp-123", "trash-456"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Half a build at a key: rebuilt, not used.
	if err := os.Mkdir(filepath.Join(dir, keyA), 0o755); err != nil {
		t.Fatal(err)
	}
	bin, use, err := cachedBuild(dir, key(keyA), f.compile)
	if err != nil || bin != filepath.Join(dir, keyA, "server") {
		t.Fatalf("cachedBuild over half a build: %q, %v", bin, err)
	}
	use.unlock()
	var left []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		left = append(left, e.Name())
	}
	// keyA new; keys[4] and keys[3] the most recently used; keys[0] in use.
	want := []string{keys[0], keys[3], keys[4], keyA, "build.lock"}
	if strings.Join(left, " ") != strings.Join(want, " ") {
		t.Fatalf("left %v, want %v", left, want)
	}
}

// TestLockMovedAway: a process that opened an entry's lock file just
// before a prune moved the entry away does not get its lock, even once
// a new build is at the key's path, and a pruner cannot take the lock
// of an entry in use.
func TestLockMovedAway(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	entry := filepath.Join(dir, keyA)
	lockPath := filepath.Join(entry, "use.lock")
	publish := func() {
		t.Helper()
		if err := os.Mkdir(entry, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"server", "use.lock"} {
			if err := os.WriteFile(filepath.Join(entry, name), nil, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish()
	opened, err := os.Open(lockPath) // a user, just before the prune
	if err != nil {
		t.Fatal(err)
	}
	if err := discard(dir, keyA); err != nil {
		t.Fatal(err)
	}
	publish() // a new build of the same key
	if l, err := lockOpened(opened, lockPath); err == nil {
		l.unlock()
		t.Fatal("a lock on the moved-away entry's file was taken as a lock on the entry")
	}
	use, err := lockShared(lockPath)
	if err != nil {
		t.Fatalf("lock on the new build: %v", err)
	}
	if l, ok := tryLockExclusive(lockPath); ok {
		l.unlock()
		t.Fatal("a pruner locked an entry in use")
	}
	use.unlock()
	if l, ok := tryLockExclusive(lockPath); !ok {
		t.Fatal("a pruner could not lock an entry nobody uses")
	} else {
		l.unlock()
	}
}

// TestSourceKey: the key is the same for the same sources and settings,
// and changes with the build flags and the go command's settings.
func TestSourceKey(t *testing.T) {
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	k1, err := sourceKey(gocmd, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !isKey(k1) {
		t.Fatalf("key %q", k1)
	}
	if k2, err := sourceKey(gocmd, nil); err != nil || k2 != k1 {
		t.Fatalf("second key %q (%v), first %q", k2, err, k1)
	}
	if k, _ := sourceKey(gocmd, []string{"-race"}); k == k1 {
		t.Fatal("the key does not cover the build flags")
	}
	t.Setenv("CGO_CFLAGS", "-O1 -g -DSERVERTEST_KEY")
	if k, _ := sourceKey(gocmd, nil); k == k1 {
		t.Fatal("the key does not cover CGO_CFLAGS")
	}
}
