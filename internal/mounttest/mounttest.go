// Package mounttest mounts real filesystems for fault tests, as httptest
// runs real servers: a small tmpfs that a test can fill up, and an ext4
// image on a loop device that a test can freeze (fsfreeze) to make every
// write and fsync hang, as a dead disk does. Everything is undone in the
// test's cleanup, thawed before unmounted, even when the test fails.
//
// Mounting needs root and a sandbox that allows it. Where it is refused
// the test is skipped, or fails when the CI environment variable is set,
// so CI cannot pass without running the fault tests.
package mounttest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/internal/testenv"
)

// MaxFreeze is how long a filesystem stays frozen at most: a watchdog
// process thaws it then, even if the test binary was killed (a process
// that writes to a frozen filesystem sleeps uninterruptibly, and so would
// every later test touching it).
const MaxFreeze = 60 * time.Second

// Tmpfs mounts a tmpfs of size bytes on a new directory and returns it.
func Tmpfs(tb testing.TB, size int64) string {
	tb.Helper()
	dir := mountPoint(tb)
	mount(tb, dir, "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir)
	return dir
}

// Ext4 makes an ext4 image of size bytes (at least 8 MiB), mounts it on
// a loop device and returns the mount point. Only a real block-device
// filesystem can be frozen; tmpfs cannot.
func Ext4(tb testing.TB, size int64) string {
	tb.Helper()
	need(tb, "mkfs.ext4", "fsfreeze", "mount", "umount")
	img := filepath.Join(tb.TempDir(), "fs.img")
	if err := os.Truncate(mustCreate(tb, img), size); err != nil {
		tb.Fatalf("mounttest: %v", err)
	}
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", img).CombinedOutput(); err != nil {
		unavailable(tb, fmt.Sprintf("mkfs.ext4: %v: %s", err, out))
	}
	dir := mountPoint(tb)
	mount(tb, dir, "-o", "loop", img, dir)
	return dir
}

// Freeze freezes the filesystem mounted at dir until the returned thaw
// is called, the test ends, or MaxFreeze passes. thaw is idempotent.
// Freeze after opening whatever writes to dir, so that the cleanup
// registered here (thaw) runs before theirs (Close would hang).
func Freeze(tb testing.TB, dir string) (thaw func()) {
	tb.Helper()
	// The watchdog runs in its own process group, so that an interrupt
	// killing the test binary does not take it along.
	dog := exec.Command("sh", "-c", `sleep "$1"; exec fsfreeze -u "$2"`, "sh",
		fmt.Sprint(int(MaxFreeze.Seconds())), dir)
	dog.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := dog.Start(); err != nil {
		tb.Fatalf("mounttest: start freeze watchdog: %v", err)
	}
	if out, err := exec.Command("fsfreeze", "-f", dir).CombinedOutput(); err != nil {
		_ = syscall.Kill(-dog.Process.Pid, syscall.SIGKILL)
		_ = dog.Wait()
		tb.Fatalf("mounttest: fsfreeze -f %s: %v: %s", dir, err, out)
	}
	var once sync.Once
	thaw = func() {
		once.Do(func() {
			if out, err := exec.Command("fsfreeze", "-u", dir).CombinedOutput(); err != nil {
				tb.Errorf("mounttest: fsfreeze -u %s: %v: %s", dir, err, out)
			}
			_ = syscall.Kill(-dog.Process.Pid, syscall.SIGKILL) // its group: sh and its sleep
			_ = dog.Wait()
		})
	}
	tb.Cleanup(thaw)
	return thaw
}

// Fill writes a file of n bytes at path (real blocks, not a sparse file)
// and returns its name, for a test to delete when it frees space.
func Fill(tb testing.TB, path string, n int64) string {
	tb.Helper()
	fd, err := os.Create(path)
	if err != nil {
		tb.Fatalf("mounttest: %v", err)
	}
	defer fd.Close()
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i) | 1
	}
	for n > 0 {
		k := min(n, int64(len(buf)))
		if _, err := fd.Write(buf[:k]); err != nil {
			tb.Fatalf("mounttest: fill %s: %v", path, err)
		}
		n -= k
	}
	if err := fd.Sync(); err != nil {
		tb.Fatalf("mounttest: fill %s: %v", path, err)
	}
	return path
}

// Free reports the bytes available to unprivileged users on the
// filesystem holding path, as df shows them.
func Free(tb testing.TB, path string) int64 {
	tb.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		tb.Fatalf("mounttest: statfs %s: %v", path, err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

func mountPoint(tb testing.TB) string {
	tb.Helper()
	if os.Geteuid() != 0 {
		unavailable(tb, "not running as root")
	}
	dir := filepath.Join(tb.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		tb.Fatalf("mounttest: %v", err)
	}
	return dir
}

// mount runs mount(8) with args and registers the unmount; the
// filesystem is thawed first in case a test left it frozen.
func mount(tb testing.TB, dir string, args ...string) {
	tb.Helper()
	need(tb, "mount", "umount")
	if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
		unavailable(tb, fmt.Sprintf("mount %s: %v: %s", strings.Join(args, " "), err, out))
	}
	tb.Cleanup(func() {
		_ = exec.Command("fsfreeze", "-u", dir).Run() // fails harmlessly when not frozen
		// A file still open (a store a failed test did not close) keeps the
		// mount busy: retry for a second, then detach it lazily rather
		// than leak it.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		var out []byte
		var err error
		if poll.Wait(ctx, func() bool { out, err = exec.Command("umount", dir).CombinedOutput(); return err == nil }) {
			return
		}
		tb.Errorf("mounttest: umount %s: %v: %s; detaching it lazily", dir, err, out)
		_ = exec.Command("umount", "-l", dir).Run()
	})
}

func need(tb testing.TB, tools ...string) {
	tb.Helper()
	for _, t := range tools {
		if _, err := exec.LookPath(t); err != nil {
			unavailable(tb, fmt.Sprintf("%s not found (Debian packages mount, util-linux, e2fsprogs)", t))
		}
	}
}

// unavailable skips the test, or fails it under CI, where the fault tests
// must run.
func unavailable(tb testing.TB, why string) {
	tb.Helper()
	testenv.Missing(tb, "a mountable test filesystem ("+why+")", "the filesystem fault tests need root and a sandbox that allows mount")
}

func mustCreate(tb testing.TB, path string) string {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatalf("mounttest: %v", err)
	}
	if err := f.Close(); err != nil {
		tb.Fatalf("mounttest: %v", err)
	}
	return path
}
