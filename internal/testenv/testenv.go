// Package testenv decides what a test does when something it needs from
// the machine is missing — an editing trace, a browser: on a developer's
// machine it skips, saying what is missing and how to get it; under CI
// (the CI environment variable set, as .ci/run does) it fails, since a
// skip there would pass unnoticed and the suite would test less than it
// claims. Every test and benchmark that can lack a resource goes through
// Missing, so the rule lives in one place.
package testenv

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/collabedit/collab/trace"
)

// EnvCI is the variable that marks a CI run. Any value but "" or a false
// boolean ("false", "0", ...) counts, like the CI=true most CI systems set.
const EnvCI = "CI"

// CI reports whether the tests run under continuous integration.
func CI() bool {
	v := os.Getenv(EnvCI)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	return err != nil || b
}

// Missing ends tb because what is missing: it fails under CI and skips
// otherwise. how says how to get it.
func Missing(tb testing.TB, what, how string) {
	tb.Helper()
	if CI() {
		tb.Fatalf("%s is missing and %s is set, so this fails rather than skips: %s", what, EnvCI, how)
	}
	tb.Skipf("%s is missing (with %s set this fails): %s", what, EnvCI, how)
}

// TracePath returns the path of the trace file name (such as
// "automerge-paper.json.gz") in trace.Dir, or ends tb through Missing.
func TracePath(tb testing.TB, name string) string {
	tb.Helper()
	how := "the repository keeps it in " + trace.RepoDir + " (restore it with git checkout), or set " + trace.EnvDir + " to a directory that has it"
	dir := trace.Dir()
	if dir == "" {
		Missing(tb, "the editing traces directory", how)
	}
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		Missing(tb, "editing trace "+path, how)
	} else if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	return path
}

// Trace loads the trace file name from trace.Dir, or ends tb through
// Missing. A file that is there but does not load fails tb.
func Trace(tb testing.TB, name string) *trace.Trace {
	tb.Helper()
	tr, err := trace.Load(TracePath(tb, name))
	if err != nil {
		tb.Fatal(err)
	}
	return tr
}
