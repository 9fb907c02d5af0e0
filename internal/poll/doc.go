// Package poll is how a test waits for something another goroutine or
// process does: it checks a condition, with a short backoff, until the
// condition holds or a deadline passes. It is the suite's one polling
// helper, so that every wait has the same timeout and failure message, and
// no test waits with a bare time.Sleep that is too short on a loaded
// machine and needlessly long everywhere else.
//
// Until is for a test's own goroutine: it fails the test, naming what it
// waited for, after Timeout:
//
//	poll.Until(t, "b to see Ann's caret", func() bool { return len(b.Peers()) == 1 })
//
// Wait takes a context instead, for a bound other than Timeout, for code
// that is not on the test's goroutine, or for a caller that reports a
// timeout in its own words (with the state it found):
//
//	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
//	defer cancel()
//	if !poll.Wait(ctx, converged) {
//		t.Fatalf("not converged: %s", describe())
//	}
//
// Both call cond on the calling goroutine, so cond may call t.Fatal.
// A wait on time itself — a lease that must lapse, a typist's pace, a
// window in which something must not happen — is not polling, and stays
// a time.Sleep with a comment that says so.
package poll
