package testproc

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStartExitsEarly: a server that dies while starting is reported at
// once, not after the timeout, with the end of its log.
func TestStartExitsEarly(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(log, []byte("FATAL: port in use\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	_, err := Start(exec.Command("false"), "false", log, time.Minute, func(context.Context) error { return errors.New("no") })
	if err == nil || !strings.Contains(err.Error(), "false exited") || !strings.Contains(err.Error(), "port in use") {
		t.Fatalf("Start of a process that exits: %v", err)
	}
	if d := time.Since(begin); d > 30*time.Second {
		t.Fatalf("reported after %v: it waited for the timeout", d)
	}
}

// TestStartNeverReady: a server that never answers is killed after the
// timeout and reported.
func TestStartNeverReady(t *testing.T) {
	_, err := Start(exec.Command("sleep", "60"), "sleep", "/nonexistent", 200*time.Millisecond, func(context.Context) error { return errors.New("no") })
	if err == nil || !strings.Contains(err.Error(), "did not answer within") || !strings.Contains(err.Error(), "no log") {
		t.Fatalf("Start of a process that never answers: %v", err)
	}
}

// TestStopAndKill: Stop ends a process by its signal, Kill a stopped
// (SIGSTOP) one too; both wait for the exit.
func TestStopAndKill(t *testing.T) {
	ready := func(context.Context) error { return nil }
	p, err := Start(exec.Command("sleep", "60"), "sleep", "", time.Second, ready)
	if err != nil {
		t.Fatal(err)
	}
	p.Stop(syscall.SIGTERM, 10*time.Second)
	if p.cmd.ProcessState == nil || p.cmd.ProcessState.Exited() {
		t.Fatalf("after Stop: %v, want ended by a signal", p.cmd.ProcessState)
	}
	q, err := Start(exec.Command("sleep", "60"), "sleep", "", time.Second, ready)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	q.Kill()
	if q.cmd.ProcessState == nil {
		t.Fatal("Kill returned before the process exited")
	}
}

// TestFreePort: a port of 127.0.0.1 that can be bound.
func TestFreePort(t *testing.T) {
	port, err := FreePort()
	if err != nil || port <= 0 {
		t.Fatalf("FreePort = %d, %v", port, err)
	}
}
