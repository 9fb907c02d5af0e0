package servertest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// startTimeout bounds the wait for the "listening" line. A server opening
// an empty log is listening within ~50 ms and one replaying a large WAL
// after a SIGKILL within a second or two; 30 s only guards against a
// heavily loaded CI machine.
const startTimeout = 30 * time.Second

// run is one process of a Server.
type run struct {
	n      int // 1 for a Server's first run
	cmd    *exec.Cmd
	addr   string        // from its "listening" line
	admin  string        // from its "admin listening" line, which comes before; "" if none
	exited chan struct{} // closed once it has exited and its output is copied
	err    error         // cmd.Wait's result; read after exited is closed
	// stopped is set before Kill or Stop signal it, so an exit without it
	// is the server's own doing (a crash).
	stopped atomic.Bool
}

// startRun starts bin with args, its output copied to log, and waits for
// its "listening" line.
func startRun(n int, bin string, args []string, log *logFile) (*run, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = sysProcAttr()
	err = cmd.Start()
	_ = pw.Close() // the child holds its own copy
	if err != nil {
		_ = pr.Close()
		return nil, fmt.Errorf("start server: %w", err)
	}
	r := &run{n: n, cmd: cmd, exited: make(chan struct{})}
	log.line(fmt.Sprintf(`{"servertest":"run %d started","pid":%d,"args":%q}`, n, cmd.Process.Pid, strings.Join(args, " ")))
	listening := make(chan string, 1)
	go r.wait(pr, log, listening)
	select {
	case r.addr = <-listening:
		return r, nil
	case <-r.exited:
		return nil, fmt.Errorf("server exited before listening (%v): %s", r.err, log.lastLines())
	case <-time.After(startTimeout):
		r.stopped.Store(true)
		_ = cmd.Process.Kill()
		<-r.exited
		return nil, fmt.Errorf("server not listening after %v: %s", startTimeout, log.lastLines())
	}
}

// wait copies the process's output to log, reporting the address of its
// "listening" line, then waits for the process and closes exited.
func (r *run) wait(out io.ReadCloser, log *logFile, listening chan<- string) {
	defer close(r.exited)
	rd := bufio.NewReader(out)
	found := false
	for {
		line, err := rd.ReadString('\n')
		if line = strings.TrimRight(line, "\n"); line != "" {
			log.line(line)
			if a, ok := adminAddr(line); ok && !found {
				r.admin = a // read by startRun after the listening line
			}
			if addr, ok := listeningAddr(line); ok && !found {
				found = true
				listening <- addr
			}
		}
		if err != nil {
			break
		}
	}
	_ = out.Close()
	r.err = r.cmd.Wait()
	how := "exited"
	if r.stopped.Load() {
		how = "stopped"
	}
	log.line(fmt.Sprintf(`{"servertest":"run %d %s","status":%q}`, r.n, how, fmt.Sprint(r.err)))
}

// listeningAddr recognises the server's {"message":"listening","addr":…}
// line, which it writes at every log level once it accepts connections.
func listeningAddr(line string) (string, bool) {
	if !strings.Contains(line, `"listening"`) {
		return "", false
	}
	var rec struct{ Message, Addr string }
	if json.Unmarshal([]byte(line), &rec) != nil || rec.Message != "listening" || rec.Addr == "" {
		return "", false
	}
	return rec.Addr, true
}

// adminAddr recognises the server's {"message":"admin listening",
// "admin_addr":…} line.
func adminAddr(line string) (string, bool) {
	if !strings.Contains(line, `"admin listening"`) {
		return "", false
	}
	var rec struct {
		Message string
		Addr    string `json:"admin_addr"`
	}
	if json.Unmarshal([]byte(line), &rec) != nil || rec.Message != "admin listening" || rec.Addr == "" {
		return "", false
	}
	return rec.Addr, true
}

// done reports whether the process has exited.
func (r *run) done() bool {
	select {
	case <-r.exited:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the exit.
func (r *run) kill() {
	r.stopped.Store(true)
	_ = r.cmd.Process.Kill()
	<-r.exited
}

// terminate sends SIGTERM and waits up to grace for a clean exit, then
// kills it. It returns the exit status, or why there was none.
func (r *run) terminate(grace time.Duration) error {
	r.stopped.Store(true)
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal server: %w", err)
	}
	select {
	case <-r.exited:
		return r.err
	case <-time.After(grace):
		r.kill()
		return fmt.Errorf("server still running %v after SIGTERM; killed", grace)
	}
}
