//go:build !linux

package servertest

import "syscall"

// sysProcAttr has nothing to add outside Linux: a crashed test binary may
// leave its server running until the temp dir is cleaned.
func sysProcAttr() *syscall.SysProcAttr { return nil }
