package soak

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/collabedit/collab/servertest"
)

// TestMain removes the server binary built for the tests and writes the
// figures to $SOAK_REPORT.
func TestMain(m *testing.M) {
	code := servertest.Run(m)
	if err := writeReport(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// needTime fails at once, rather than by a -timeout panic in the middle,
// when the test's deadline leaves less than need.
func needTime(t *testing.T, need time.Duration) {
	t.Helper()
	if dl, ok := t.Deadline(); ok && time.Until(dl) < need {
		t.Fatalf("this run needs about %v but the test deadline is in %v: give go test a longer -timeout",
			need.Round(time.Minute), time.Until(dl).Round(time.Second))
	}
}
