package query_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/readmodel/rmtest"
	"github.com/collabedit/collab/trace"
)

// paper is the automerge-paper trace written to a log, one event per
// patch, a second apart, snapshots every 200 versions, as the hub does.
type paper struct {
	env  *env
	ops  []document.Op
	t0   time.Time
	once sync.Once
	err  error
}

var paperFixture paper

// loadPaper writes the trace once per test binary into a log owned by
// the first caller's... own temp dir (kept until the process ends).
func loadPaper(tb testing.TB) *paper {
	p := &paperFixture
	p.once.Do(func() {
		tr, err := trace.Load(filepath.Join(trace.Dir(), "automerge-paper.json.gz"))
		if err != nil {
			p.err = err
			return
		}
		p.ops, p.t0 = tr.Ops(), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		p.env = newEnv(&keepTB{TB: tb}, nil)
		edits := make([]rmtest.Edit, len(p.ops))
		for i, op := range p.ops {
			edits[i] = rmtest.Edit{Op: op, Author: fmt.Sprint("a", i/1000%3), At: p.t0.Add(time.Duration(i) * time.Second)}
		}
		w := rmtest.NewWriter(p.env.store, "paper")
		p.err = w.AppendAll(context.Background(), edits, 200)
	})
	if p.err != nil {
		tb.Fatal(p.err)
	}
	return p
}

// keepTB is a testing.TB whose temp dirs and cleanups outlive the test
// that made them (the fixture is shared by tests and benchmarks).
type keepTB struct{ testing.TB }

func (k *keepTB) TempDir() string {
	dir, err := tempDir()
	if err != nil {
		k.TB.Fatal(err)
	}
	return dir
}

func (k *keepTB) Cleanup(func()) {}

// textsAt applies the first N ops from zero for each N in versions.
func (p *paper) textsAt(versions []int64) map[int64]string {
	want := map[int64]string{}
	sorted := slices.Clone(versions)
	slices.Sort(sorted)
	text := document.NewText("")
	v := int64(0)
	for _, n := range sorted {
		for ; v < n; v++ {
			if err := text.Apply(p.ops[v]); err != nil {
				panic(err)
			}
		}
		want[n] = text.String()
	}
	return want
}

func TestTimeTravelAutomergePaper(t *testing.T) {
	t.Parallel()
	p := loadPaper(t)
	rng := rand.New(rand.NewPCG(13, 5))
	n := int64(len(p.ops))
	versions := []int64{0, 1, 199, 200, 201, n - 1, n}
	for range 30 {
		versions = append(versions, rng.Int64N(n+1))
	}
	want := p.textsAt(versions)
	for _, v := range versions {
		var body textBody
		p.env.get(fmt.Sprintf("/api/v1/docs/paper/text?version=%d", v), http.StatusOK, &body)
		if body.Text != want[v] || body.Version != v || body.Read.Version != v {
			t.Fatalf("version %d: text differs from replaying %d ops from zero", v, v)
		}
	}
	// ?at= a time between two events gives the version of the earlier.
	for _, v := range versions[:10] {
		if v == 0 {
			continue
		}
		at := p.t0.Add(time.Duration(v-1)*time.Second + 500*time.Millisecond).Format(time.RFC3339Nano)
		var body textBody
		p.env.get("/api/v1/docs/paper/text?at="+at, http.StatusOK, &body)
		if body.Version != v || body.Text != want[v] {
			t.Fatalf("at %s: version %d, want %d", at, body.Version, v)
		}
	}
	for i := 0; i+1 < 8; i += 2 { // diffs between random versions rebuild both texts
		a, b := min(versions[7+i], versions[8+i]), max(versions[7+i], versions[8+i])
		b = min(b, a+20_000)
		want := p.textsAt([]int64{a, b})
		var d diffBody
		p.env.get(fmt.Sprintf("/api/v1/docs/paper/diff?from=%d&to=%d", a, b), http.StatusOK, &d)
		if old, new := sides(d.Segments); old != want[a] || new != want[b] {
			t.Fatalf("diff %d..%d does not rebuild both texts", a, b)
		}
	}
	var cur textBody
	p.env.get("/api/v1/docs/paper", http.StatusOK, &cur)
	if cur.Version != n || cur.Text != want[n] {
		t.Fatalf("current: version %d", cur.Version)
	}
}
