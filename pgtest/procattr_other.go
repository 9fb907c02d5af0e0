//go:build !linux

package pgtest

import "syscall"

// sysProcAttr has nothing to add outside Linux: a crashed test binary may
// leave its postgres running until the temp dir is cleaned.
func sysProcAttr() *syscall.SysProcAttr { return nil }
