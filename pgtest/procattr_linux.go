package pgtest

import "syscall"

// sysProcAttr makes the kernel kill postgres when the test binary
// exits, even by a panic or a -timeout abort that skips Cleanup.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
