package query_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/query"
	"github.com/collabedit/collab/readmodel"
	"github.com/collabedit/collab/readmodel/rmtest"
)

type diffBody struct {
	From, To int64
	Segments []query.Segment
}

// sides rebuilds the old text (equal+delete) and the new (equal+insert).
func sides(segs []query.Segment) (old, new string) {
	for _, s := range segs {
		switch s.Op {
		case "equal":
			old, new = old+s.Text, new+s.Text
		case "delete":
			old += s.Text
		case "insert":
			new += s.Text
		}
	}
	return old, new
}

func TestDiffAndAuthorship(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	rng := rand.New(rand.NewPCG(7, 7))
	w := rmtest.NewWriter(e.store, "x")
	texts := []string{""}
	for i := range 300 {
		n := w.Text.Len()
		pos := rng.IntN(n + 1)
		del := min(n-pos, rng.IntN(4))
		ins := []string{"", "ab", "😀", "long words here "}[rng.IntN(4)]
		e.more(w, rmtest.Edit{Op: document.FromPatch(pos, del, ins), Author: fmt.Sprint("u", i%4)})
		texts = append(texts, w.Text.String())
	}
	var d diffBody
	e.get("/api/v1/docs/x/diff?from=1&to=1", http.StatusOK, &d)
	e.get("/api/v1/docs/x/diff?from=0&to=1", http.StatusOK, &d)
	if len(d.Segments) != 1 || d.Segments[0].Op != "insert" {
		t.Fatalf("%+v", d)
	}
	for range 40 {
		a := rng.Int64N(301)
		b := a + rng.Int64N(301-a)
		e.get(fmt.Sprintf("/api/v1/docs/x/diff?from=%d&to=%d", a, b), http.StatusOK, &d)
		if old, new := sides(d.Segments); old != texts[a] || new != texts[b] {
			t.Fatalf("diff %d..%d does not rebuild both texts", a, b)
		}
		for i := 1; i < len(d.Segments); i++ {
			if d.Segments[i].Op == d.Segments[i-1].Op {
				t.Fatalf("unmerged segments %+v", d.Segments)
			}
		}
	}
	e.catchUp()
	var body struct {
		Version int64
		Runs    []readmodel.Run
	}
	e.get("/api/v1/docs/x/authorship", http.StatusOK, &body)
	sum := 0
	for _, r := range body.Runs {
		sum += r.Len
	}
	if body.Version != 300 || sum != w.Text.Len() || len(body.Runs) < 2 {
		t.Fatalf("runs sum %d, text %d, version %d", sum, w.Text.Len(), body.Version)
	}
}
