// Package faketb is a testing.TB that records how a test helper ended
// the test, for the tests of the test helpers themselves (internal/poll,
// internal/testenv, internal/testrand). Like testing's own, its Fatal and
// Skip methods stop the calling goroutine; any method not defined here
// panics (the embedded testing.TB is nil), so an unexpected call shows.
package faketb

import (
	"fmt"
	"runtime"
	"testing"
)

// TB records a helper's calls. The zero value is ready; use it through
// Run so that Fatal and Skip end only the helper's goroutine.
type TB struct {
	testing.TB
	Failure    string   // the message of Fatal or Fatalf; "" if not called
	SkipReason string   // the message of Skip or Skipf; "" if not called
	Logged     []string // every Logf, formatted
}

// Helper does nothing.
func (f *TB) Helper() {}

// Fatal records the message and stops the goroutine.
func (f *TB) Fatal(args ...any) {
	f.Failure = fmt.Sprint(args...)
	runtime.Goexit()
}

// Fatalf records the message and stops the goroutine.
func (f *TB) Fatalf(format string, args ...any) {
	f.Failure = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// Skipf records the message and stops the goroutine.
func (f *TB) Skipf(format string, args ...any) {
	f.SkipReason = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// Logf records the message.
func (f *TB) Logf(format string, args ...any) {
	f.Logged = append(f.Logged, fmt.Sprintf(format, args...))
}

// Run calls fn with a new TB on its own goroutine, as testing runs a
// test, and returns the TB once fn has returned or stopped.
func Run(fn func(tb testing.TB)) *TB {
	f := &TB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}
