package client

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"github.com/collabedit/collab/document"
)

func randText(r *rand.Rand, n int) string {
	const alphabet = "ab😀 é"
	rs := []rune(alphabet)
	out := make([]rune, n)
	for i := range out {
		out[i] = rs[r.IntN(len(rs))]
	}
	return string(out)
}

// randEdit returns a random patch op fitting text.
func randEdit(r *rand.Rand, text string) document.Op {
	n := utf8.RuneCountInString(text)
	pos := r.IntN(n + 1)
	del := r.IntN(n - pos + 1)
	if r.IntN(3) == 0 {
		del = 0
	}
	return document.FromPatch(pos, del, randText(r, r.IntN(4)))
}

func TestDiff(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		a, b := randText(r, r.IntN(12)), randText(r, r.IntN(12))
		got, err := document.Apply(a, diff(a, b))
		if err != nil || got != b {
			t.Fatalf("diff(%q, %q) gives %q, %v", a, b, got, err)
		}
	}
	if op := diff("hello world", "hello, world"); len(op) != 2 || op[0].Retain != 5 || op[1].Insert != "," {
		t.Fatalf("diff is not minimal around one insert: %v", op)
	}
}

func TestInvert(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		text := randText(r, r.IntN(12))
		op := randEdit(r, text)
		after, err := document.Apply(text, op)
		if err != nil {
			t.Fatal(err)
		}
		back, err := document.Apply(after, invert(text, op))
		if err != nil || back != text {
			t.Fatalf("invert(%q, %v) gives %q, %v", text, op, back, err)
		}
	}
}

// TestRebase checks the snapshot rebase: the local text (base + pending)
// moved by toLocal equals the snapshot with the rebased op applied, and
// the rebased op keeps the pending inserts.
func TestRebase(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		base := randText(r, r.IntN(12))
		pending := randEdit(r, base)
		snap := base
		for range r.IntN(3) {
			snap, _ = document.Apply(snap, randEdit(r, snap))
		}
		local, _ := document.Apply(base, pending)
		rebased, toLocal := rebase(base, pending, snap)
		viaLocal, err1 := document.Apply(local, toLocal)
		viaSnap, err2 := document.Apply(snap, rebased)
		if err1 != nil || err2 != nil || viaLocal != viaSnap {
			t.Fatalf("base %q pending %v snap %q: local path %q (%v), snapshot path %q (%v)",
				base, pending, snap, viaLocal, err1, viaSnap, err2)
		}
	}
	// Worked example: the local insert survives a concurrent remote edit.
	rebased, _ := rebase("hello world", document.FromPatch(5, 0, "!"), "hello big world")
	if got, _ := document.Apply("hello big world", rebased); got != "hello! big world" {
		t.Fatalf("rebased onto snapshot: %q", got)
	}
	if rebased, toLocal := rebase("abc", nil, "abcd"); rebased != nil || len(toLocal) != 2 {
		t.Fatalf("nothing pending: rebased %v, toLocal %v", rebased, toLocal)
	}
}
