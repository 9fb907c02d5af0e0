package main

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/collabedit/collab/redistest"
	"github.com/collabedit/collab/servertest"
)

// runToExit runs the server, expecting it to stop by itself before it
// listens, and returns its exit code and what it logged. It is a plain
// exec of servertest's binary: servertest.Start fails a server that exits
// at start.
func runToExit(t *testing.T, dir string, extra ...string) (int, string) {
	t.Helper()
	args := append([]string{"-addr", "127.0.0.1:0", "-data", dir, "-log-format", "json"}, extra...)
	cmd := exec.Command(servertest.Binary(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), stderr.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, stderr.String()
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("a second server on the data directory is still running after 20s; it logged:\n%s", stderr.String())
		return 0, ""
	}
}

// TestDataDirectoryInUse starts a server on a data directory, then a
// second one on the same directory: without -redis-url it refuses to
// start, and so does one with -redis-url while the first runs without.
func TestDataDirectoryInUse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := servertest.Start(t, servertest.Options{Name: "first", Dir: dir})
	pid := first.PID()
	redis := redistest.Start(t)
	tests := []struct {
		name  string
		extra []string
		want  string
	}{
		{"without redis", nil,
			fmt.Sprintf("is in use by another server process (pid %d); to serve one data directory from several processes, start every one with -redis-url", pid)},
		{"with redis beside one without", []string{"-redis-url", redis.URL()},
			fmt.Sprintf("is in use by another server process (pid %d) started without -redis-url; to serve one data directory from several processes, start every one with -redis-url", pid)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, logs := runToExit(t, dir, tt.extra...)
			if code == 0 || !strings.Contains(logs, tt.want) || !strings.Contains(logs, dir) {
				t.Fatalf("second server exited %d, logging:\n%s\nwant a non-zero exit and %q", code, logs, tt.want)
			}
		})
	}
	if !first.Running() {
		t.Fatalf("the first server stopped: %v", first.Wait(0))
	}
}
