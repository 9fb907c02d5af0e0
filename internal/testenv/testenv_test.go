package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/collabedit/collab/internal/faketb"

	"github.com/collabedit/collab/trace"
)

func TestCI(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  bool
	}{{"", false}, {"true", true}, {"1", true}, {"yes", true}, {"false", false}, {"0", false}} {
		t.Setenv(EnvCI, tt.value)
		if got := CI(); got != tt.want {
			t.Errorf("CI() with %s=%q = %v, want %v", EnvCI, tt.value, got, tt.want)
		}
	}
}

func TestMissing(t *testing.T) {
	for _, tt := range []struct {
		ci   string
		fail bool
	}{{"", false}, {"true", true}, {"false", false}} {
		t.Setenv(EnvCI, tt.ci)
		f := faketb.Run(func(tb testing.TB) { Missing(tb, "chromium", "apt-get install chromium") })
		msg := f.SkipReason
		if tt.fail {
			msg = f.Failure
		}
		if msg == "" || (f.Failure != "") != tt.fail || !strings.Contains(msg, "chromium is missing") || !strings.Contains(msg, "apt-get install chromium") {
			t.Errorf("%s=%q: failed %q, skipped %q; want to fail %v saying what is missing and how to get it", EnvCI, tt.ci, f.Failure, f.SkipReason, tt.fail)
		}
	}
}

func TestTracePathInRepository(t *testing.T) {
	t.Setenv(trace.EnvDir, "")
	t.Setenv(EnvCI, "true")
	var path string
	f := faketb.Run(func(tb testing.TB) { path = TracePath(tb, "automerge-paper.json.gz") })
	if f.Failure != "" || f.SkipReason != "" {
		t.Fatalf("failed %q, skipped %q", f.Failure, f.SkipReason)
	}
	if want := filepath.Join(filepath.FromSlash(trace.RepoDir), "automerge-paper.json.gz"); !strings.HasSuffix(path, want) {
		t.Fatalf("path %q, want one ending in %s", path, want)
	}
}

func TestTraceMissing(t *testing.T) {
	t.Setenv(trace.EnvDir, t.TempDir())
	for _, ci := range []string{"true", ""} {
		t.Setenv(EnvCI, ci)
		f := faketb.Run(func(tb testing.TB) { Trace(tb, "automerge-paper.json.gz") })
		msg := f.Failure + f.SkipReason
		if (f.Failure != "") != (ci != "") || !strings.Contains(msg, "automerge-paper.json.gz is missing") || !strings.Contains(msg, trace.RepoDir) || !strings.Contains(msg, trace.EnvDir) {
			t.Errorf("%s=%q: failed %q, skipped %q; want a failure under CI, else a skip, naming the file and where to get it", EnvCI, ci, f.Failure, f.SkipReason)
		}
	}
}

func TestTraceLoads(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(trace.EnvDir, dir)
	t.Setenv(EnvCI, "true")
	good := `{"startContent":"a","endContent":"ab","txns":[{"patches":[[1,0,"b"]]}]}`
	for name, body := range map[string]string{"good.json": good, "bad.json": `{"txns":`} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var tr *trace.Trace
	if f := faketb.Run(func(tb testing.TB) { tr = Trace(tb, "good.json") }); f.Failure != "" || tr == nil || tr.EndContent != "ab" || len(tr.Patches) != 1 {
		t.Fatalf("good trace: failed %q, trace %+v", f.Failure, tr)
	}
	if f := faketb.Run(func(tb testing.TB) { Trace(tb, "bad.json") }); !strings.Contains(f.Failure, "bad.json") {
		t.Fatalf("a trace that does not load: failed %q, want a failure naming it", f.Failure)
	}
}
