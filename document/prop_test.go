package document_test

import (
	"math/rand/v2"
	"testing"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/internal/testrand"
)

const propCases = 10000

// TestPropTransform checks TP1 and that results are normal and fit.
func TestPropTransform(t *testing.T) {
	r := rand.New(rand.NewPCG(testrand.Seed(t), 1))
	for i := range propCases {
		doc := randText(r, 12)
		n := runeLen(doc)
		a, b := randOp(r, n), randOp(r, n)
		checkTP1(t, i, doc, a, b)
	}
}

func checkTP1(t *testing.T, i int, doc string, a, b document.Op) {
	t.Helper()
	ap, bp := document.Transform(a, b)
	afterB := mustApply(t, doc, b)
	afterA := mustApply(t, doc, a)
	left, err1 := document.Apply(afterB, ap)
	right, err2 := document.Apply(afterA, bp)
	if err1 != nil || err2 != nil || left != right {
		t.Fatalf("case %d: TP1 fails\ndoc %q\na  %v\nb  %v\na' %v -> %q (%v)\nb' %v -> %q (%v)", i, doc, a, b, ap, left, err1, bp, right, err2)
	}
	if !isNormal(ap) || !isNormal(bp) {
		t.Fatalf("case %d: results not normal: %v, %v", i, ap, bp)
	}
	if ap.BaseLen() > runeLen(afterB) || bp.BaseLen() > runeLen(afterA) {
		t.Fatalf("case %d: results too long", i)
	}
}

func TestPropCompose(t *testing.T) {
	r := rand.New(rand.NewPCG(testrand.Seed(t), 2))
	for i := range propCases {
		doc := randText(r, 12)
		a := randOp(r, runeLen(doc))
		mid := mustApply(t, doc, a)
		b := randOp(r, runeLen(mid))
		c, err := document.Compose(a, b)
		if err != nil {
			t.Fatalf("case %d: Compose(%v, %v): %v", i, a, b, err)
		}
		want := mustApply(t, mid, b)
		got, err := document.Apply(doc, c)
		if err != nil || got != want {
			t.Fatalf("case %d: doc %q a %v b %v: Compose = %v gives %q (%v), want %q", i, doc, a, b, c, got, err, want)
		}
		if !isNormal(c) {
			t.Fatalf("case %d: Compose result %v not normal", i, c)
		}
		if c.Delta() != a.Delta()+b.Delta() {
			t.Fatalf("case %d: Delta %d != %d + %d", i, c.Delta(), a.Delta(), b.Delta())
		}
	}
}

func TestPropNormalize(t *testing.T) {
	r := rand.New(rand.NewPCG(testrand.Seed(t), 4))
	for i := range propCases {
		doc := randText(r, 12)
		op := randOp(r, runeLen(doc))
		orig := append(document.Op(nil), op...)
		n := op.Normalize()
		if !opsEqual(op, orig) {
			t.Fatalf("case %d: Normalize mutated its input", i)
		}
		if got, want := mustApply(t, doc, n), mustApply(t, doc, op); got != want {
			t.Fatalf("case %d: doc %q op %v: normal form %v gives %q, want %q", i, doc, op, n, got, want)
		}
		if nn := n.Normalize(); !opsEqual(nn, n) {
			t.Fatalf("case %d: not idempotent: %v -> %v", i, n, nn)
		}
		if n.Delta() != op.Delta() || n.IsNoop() != op.IsNoop() || n.BaseLen() > op.BaseLen() {
			t.Fatalf("case %d: metrics changed: %v vs %v", i, n, op)
		}
		// Appending to the result must not be visible through another
		// normalisation of the same op.
		n2 := op.Normalize()
		_ = append(n, document.Component{Insert: "Q"})
		if !opsEqual(n2, op.Normalize()) {
			t.Fatalf("case %d: shared backing array", i)
		}
	}
}

// TestPropTransformIndex checks bounds and agreement with Transform: a
// cursor behaves like a zero-width marker insert that loses ties
// (ownInsertsFirst false) or wins them (true).
func TestPropTransformIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(testrand.Seed(t), 5))
	for i := range propCases {
		doc := randText(r, 12)
		n := runeLen(doc)
		op := randOp(r, n)
		newLen := runeLen(mustApply(t, doc, op))
		pos := r.IntN(n + 1)
		own := r.IntN(2) == 0
		got := document.TransformIndex(pos, op, own)
		if got < 0 || got > newLen {
			t.Fatalf("case %d: TransformIndex(%d, %v, %v) = %d out of [0, %d]", i, pos, op, own, got, newLen)
		}
		marker := document.Op{{Retain: pos}, {Insert: "\x00"}}
		var mp document.Op
		if own {
			mp, _ = document.Transform(marker, op)
		} else {
			_, mp = document.Transform(op, marker)
		}
		want := 0
		if len(mp) > 0 && mp[0].Retain > 0 {
			want = mp[0].Retain
		}
		if got != want {
			t.Fatalf("case %d: doc %q op %v pos %d own %v: TransformIndex = %d, marker lands at %d", i, doc, op, pos, own, got, want)
		}
	}
}

// TestPropText compares Text.Apply with Apply over long edit sequences,
// including ops that do not fit (which must leave the text unchanged).
func TestPropText(t *testing.T) {
	r := rand.New(rand.NewPCG(testrand.Seed(t), 6))
	for seq := range 100 {
		s := randText(r, 30)
		txt := document.NewText(s)
		if seq%2 == 1 {
			txt = &document.Text{} // the zero Text is usable
			s = ""
		}
		for step := range 100 {
			n := runeLen(s)
			var op document.Op
			if r.IntN(20) == 0 {
				op = randOp(r, n+1+r.IntN(3))
				if op.BaseLen() <= n {
					op = append(op, document.Component{Retain: n + 1 - op.BaseLen()})
				}
			} else if r.IntN(2) == 0 {
				// Local single-character edits, like typing.
				op = document.FromPatch(r.IntN(n+1), 0, pieces[r.IntN(len(pieces))])
				if n > 0 && r.IntN(3) == 0 {
					op = document.FromPatch(r.IntN(n), 1, "")
				}
			} else {
				op = randOp(r, n)
			}
			want, wantErr := document.Apply(s, op)
			gotErr := txt.Apply(op)
			if (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("seq %d step %d: op %v on %q: Text err %v, Apply err %v", seq, step, op, s, gotErr, wantErr)
			}
			if wantErr != nil && gotErr.Error() != wantErr.Error() {
				t.Fatalf("seq %d step %d: Text err %q, Apply err %q", seq, step, gotErr, wantErr)
			}
			if got := txt.String(); got != want || txt.Len() != runeLen(want) {
				t.Fatalf("seq %d step %d: op %v on %q: Text %q (len %d), want %q", seq, step, op, s, got, txt.Len(), want)
			}
			s = want
		}
	}
}

// byteStream turns fuzz input into small numbers; it yields zeros when
// exhausted so every input decodes to something.
type byteStream struct {
	b []byte
}

func (s *byteStream) next(n int) int {
	if n <= 0 {
		return 0
	}
	if len(s.b) == 0 {
		return 0
	}
	v := int(s.b[0]) % n
	s.b = s.b[1:]
	return v
}

func (s *byteStream) text(maxPieces int) string {
	k := s.next(maxPieces + 1)
	out := ""
	for range k {
		out += pieces[s.next(len(pieces))]
	}
	return out
}

func (s *byteStream) op(docLen int) document.Op {
	var op document.Op
	left := docLen
	for len(s.b) > 0 {
		switch s.next(5) {
		case 0:
			return op
		case 1:
			if left > 0 {
				n := 1 + s.next(left)
				op = append(op, document.Component{Retain: n})
				left -= n
			}
		case 2:
			if left > 0 {
				n := 1 + s.next(left)
				op = append(op, document.Component{Delete: n})
				left -= n
			}
		default:
			if t := s.text(3); t != "" {
				op = append(op, document.Component{Insert: t})
			}
		}
	}
	return op
}

func FuzzTransform(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{5, 1, 2, 3, 4, 5, 1, 2, 3, 0, 2, 1, 4, 1, 0})
	f.Add([]byte{12, 13, 14, 15, 16, 3, 1, 3, 4, 1, 0, 3, 1, 7, 0, 2, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &byteStream{b: data}
		doc := s.text(16)
		n := runeLen(doc)
		a := s.op(n)
		b := s.op(n)
		checkTP1(t, 0, doc, a, b)
		// The rest of the input drives a compose check, for free.
		mid := mustApply(t, doc, a)
		b2 := s.op(runeLen(mid))
		c, err := document.Compose(a, b2)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := mustApply(t, doc, c), mustApply(t, mid, b2); got != want {
			t.Fatalf("compose: doc %q a %v b %v: %q != %q", doc, a, b2, got, want)
		}
		for pos := 0; pos <= n; pos++ {
			if p := document.TransformIndex(pos, b, pos%2 == 0); p < 0 || p > runeLen(mustApply(t, doc, b)) {
				t.Fatalf("TransformIndex(%d) = %d out of bounds", pos, p)
			}
		}
	})
}
