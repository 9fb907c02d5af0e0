// Package testproc runs a server that tests need (postgres, redis-server)
// as a child process of the test binary: started and waited for until it
// answers, stopped or killed and waited for, with the end of its log
// quoted when it fails to come up. pgtest and redistest build on it.
//
// A Process is owned by the test helper that started it: one goroutine
// per Process waits for the child and is done once it has exited, which
// Kill and Stop wait for.
package testproc

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/collabedit/collab/internal/poll"
)

// Process is one run of a server.
type Process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed by the goroutine waiting for cmd
	err    error         // cmd.Wait's result; read after exited is closed
}

// Start starts cmd and waits until ready answers nil, for at most
// timeout. If the process exits first, or does not answer in time (it is
// killed then), the error names it as what ("postgres on port 5432") and
// quotes the end of the log at logPath.
func Start(cmd *exec.Cmd, what, logPath string, timeout time.Duration, ready func(context.Context) error) (*Process, error) {
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("exec %s: %w", cmd.Path, err)
	}
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	go func() { // no point waiting for an answer from a process that is gone
		select {
		case <-p.exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	if poll.Wait(ctx, func() bool { return ready(ctx) == nil }) {
		return p, nil
	}
	select {
	case <-p.exited:
		return nil, fmt.Errorf("%s exited (%v): %s", what, p.err, Tail(logPath))
	default:
		p.Kill()
		return nil, fmt.Errorf("%s did not answer within %v: %s", what, timeout, Tail(logPath))
	}
}

// Signal sends sig to the process.
func (p *Process) Signal(sig syscall.Signal) error { return p.cmd.Process.Signal(sig) }

// Kill stops the process with SIGKILL (which ends a stopped one too) and
// waits for it to exit.
func (p *Process) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// Stop sends sig and waits for the process to exit, killing it if it has
// not within grace.
func (p *Process) Stop(sig syscall.Signal, grace time.Duration) {
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(grace):
		p.Kill()
	}
}

// FreePort asks the kernel for a free port of 127.0.0.1 by listening on
// port 0. The port is released before the server binds it, so another
// process may take it first: callers retry a start that fails.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Tail returns the last 2,000 bytes of the log at path (enough for what a
// failed start writes), for error messages.
func Tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	const max = 2000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return strings.TrimSpace(string(b))
}
