package trace_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/internal/testenv"
	"github.com/collabedit/collab/trace"
)

func replay(t *testing.T, tr *trace.Trace) {
	t.Helper()
	txt := document.NewText(tr.StartContent)
	for i, op := range tr.Ops() {
		if err := txt.Apply(op); err != nil {
			t.Fatalf("patch %d %+v: %v", i, tr.Patches[i], err)
		}
	}
	if got := txt.String(); got != tr.EndContent {
		t.Fatalf("final text differs from endContent: got %d bytes, want %d", len(got), len(tr.EndContent))
	}
}

func TestAutomergePaper(t *testing.T) {
	tr := testenv.Trace(t, "automerge-paper.json.gz")
	if got, want := len(tr.Patches), 259778; got != want {
		t.Errorf("patch count = %d, want %d", got, want)
	}
	if tr.StartContent != "" {
		t.Errorf("startContent = %q, want empty", tr.StartContent)
	}
	if got, want := len([]rune(tr.EndContent)), 104852; got != want {
		t.Errorf("endContent length = %d code points, want %d", got, want)
	}
	replay(t, tr)
}

// seph-blog1 contains non-ASCII code points and a large paste, which the
// ASCII-only automerge-paper trace does not exercise.
func TestSephBlog1(t *testing.T) {
	tr := testenv.Trace(t, "seph-blog1.json.gz")
	if got, want := len(tr.Patches), 137993; got != want {
		t.Errorf("patch count = %d, want %d", got, want)
	}
	if got, want := len([]rune(tr.EndContent)), 56769; got != want {
		t.Errorf("endContent length = %d code points, want %d", got, want)
	}
	replay(t, tr)
}

func TestLoadPlainAndErrors(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "t.json")
	body := `{"startContent":"ab","endContent":"aXc","txns":[{"time":"2020-01-02T03:04:05.5Z","patches":[[1,1,"X"]]},{"patches":[[2,0,"c"]]}]}`
	if err := os.WriteFile(plain, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := trace.Load(plain)
	if err != nil {
		t.Fatal(err)
	}
	want := []trace.Patch{{1, 1, "X"}, {2, 0, "c"}}
	if len(tr.Patches) != len(want) || tr.Patches[0] != want[0] || tr.Patches[1] != want[1] {
		t.Fatalf("patches = %+v, want %+v", tr.Patches, want)
	}
	replay(t, tr)
	if len(tr.Times) != 2 || !tr.Times[0].Equal(time.Date(2020, 1, 2, 3, 4, 5, 5e8, time.UTC)) || !tr.Times[1].IsZero() {
		t.Fatalf("times = %v, want the first transaction's time and zero", tr.Times)
	}

	for name, bad := range map[string]string{
		"bad time":       `{"txns":[{"time":"x","patches":[[1,0,"a"]]}]}`,
		"short patch":    `{"txns":[{"patches":[[1,1]]}]}`,
		"negative pos":   `{"txns":[{"patches":[[-1,0,"a"]]}]}`,
		"string count":   `{"txns":[{"patches":[[1,"1","a"]]}]}`,
		"not json":       `{"txns":`,
		"number for ins": `{"txns":[{"patches":[[1,0,5]]}]}`,
	} {
		p := filepath.Join(dir, "bad.json")
		if err := os.WriteFile(p, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := trace.Load(p); err == nil {
			t.Errorf("%s: Load succeeded, want error", name)
		}
	}
	if _, err := trace.Load(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}

func TestDirEnvOverride(t *testing.T) {
	t.Setenv(trace.EnvDir, "/some/where")
	if got := trace.Dir(); got != "/some/where" {
		t.Fatalf("trace.Dir() = %q with %s set", got, trace.EnvDir)
	}
}

// TestDirInRepository: the repository's own copies are found from any
// package's directory and from the root (where `go run ./cmd/loadtest`
// runs).
func TestDirInRepository(t *testing.T) {
	t.Setenv(trace.EnvDir, "")
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(root, "trace", "testdata")
	for _, wd := range []string{root, filepath.Join(root, "trace"), filepath.Join(root, "cmd", "loadtest"), want} {
		t.Chdir(wd)
		if got := trace.Dir(); got != want {
			t.Errorf("in %s: trace.Dir() = %q, want %q", wd, got, want)
		}
	}
	for _, name := range []string{"automerge-paper.json.gz", "seph-blog1.json.gz", "README.md"} {
		if fi, err := os.Stat(filepath.Join(want, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestDirLayouts: only this module's go.mod marks a repository root;
// a shared/traces directory beside it is never read.
func TestDirLayouts(t *testing.T) {
	t.Setenv(trace.EnvDir, "")
	for _, tc := range []struct {
		name  string
		files []string // made under a temporary directory; "d/" is a directory
		gomod string   // written to repo/go.mod when not ""
		want  string   // relative to the temporary directory, "" for none
	}{
		{"this module", []string{"repo/trace/testdata/", "shared/traces/"}, "module github.com/collabedit/collab\n\ngo 1.26\n", "repo/trace/testdata"},
		{"quoted module path", []string{"repo/trace/testdata/"}, "// c\nmodule \"github.com/collabedit/collab\"\n", "repo/trace/testdata"},
		{"another module", []string{"repo/trace/testdata/", "shared/traces/"}, "module example.com/other\n", ""},
		{"a module with a longer path", []string{"repo/trace/testdata/"}, "module github.com/collabedit/collab2\n", ""},
		{"this module without the traces", []string{"repo/x/", "shared/traces/"}, "module github.com/collabedit/collab\n", ""},
		{"nothing", []string{"repo/x/"}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			for _, f := range tc.files {
				if err := os.MkdirAll(filepath.Join(base, f), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if tc.gomod != "" {
				if err := os.WriteFile(filepath.Join(base, "repo", "go.mod"), []byte(tc.gomod), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Chdir(filepath.Join(base, "repo"))
			want := ""
			if tc.want != "" {
				want = filepath.Join(base, tc.want)
			}
			if got := trace.Dir(); got != want {
				t.Fatalf("trace.Dir() = %q, want %q", got, want)
			}
		})
	}
}

func BenchmarkLoadAutomergePaper(b *testing.B) {
	path := testenv.TracePath(b, "automerge-paper.json.gz")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := trace.Load(path); err != nil {
			b.Fatal(err)
		}
	}
}
