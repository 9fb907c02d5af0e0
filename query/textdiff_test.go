package query_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/query"
	"github.com/collabedit/collab/readmodel/rmtest"
)

// TestTextSegments: the segments of any two texts, emoji and all, give
// back both.
func TestTextSegments(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []rune("ab c\n😀é")
	rnd := func(n int) string {
		r := make([]rune, n)
		for i := range r {
			r[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(r)
	}
	for i := range 200 {
		from, to := rnd(rng.IntN(60)), rnd(rng.IntN(60))
		if i%3 == 0 {
			r := []rune(from)
			to = string(r[:len(r)/2]) + rnd(5) + string(r[len(r)/2:])
		}
		old, new := sides(query.TextSegments(from, to))
		if old != from || new != to {
			t.Fatalf("%q → %q: segments give %q → %q", from, to, old, new)
		}
	}
}

// TestLongSpanDiff: a diff spanning more versions than are worth
// composing compares the texts at its ends instead, and still turns one
// into the other.
func TestLongSpanDiff(t *testing.T) {
	e := newEnv(t, nil)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var edits []rmtest.Edit
	text := document.NewText("")
	texts := []string{""}
	for v := range 2600 {
		op := document.FromPatch(text.Len()/2, 0, fmt.Sprint(v%10))
		if v%7 == 0 && text.Len() > 2 {
			op = document.FromPatch(1, 1, "")
		}
		if err := text.Apply(op); err != nil {
			t.Fatal(err)
		}
		texts = append(texts, text.String())
		edits = append(edits, rmtest.Edit{Op: op, Author: "ann", At: at})
	}
	w := rmtest.NewWriter(e.store, "long")
	if err := w.AppendAll(t.Context(), edits, 200); err != nil {
		t.Fatal(err)
	}
	for _, span := range [][2]int{{10, 2600}, {2590, 2600}, {0, 2600}, {100, 2300}} {
		var d diffBody
		e.get(fmt.Sprintf("/api/v1/docs/long/diff?from=%d&to=%d", span[0], span[1]), http.StatusOK, &d)
		old, new := sides(d.Segments)
		if old != texts[span[0]] || new != texts[span[1]] {
			t.Fatalf("diff %v does not turn one text into the other", span)
		}
	}
}
