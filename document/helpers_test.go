package document_test

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/collabedit/collab/document"
)

// pieces are the building blocks of random text: ASCII, characters JSON
// escapes, a BMP non-ASCII letter, CJK, an emoji (astral, 4 UTF-8 bytes,
// 2 UTF-16 units), a combining sequence (e + U+0301 = 2 code points), an
// astral CJK ideograph and the separators encoding/json escapes.
var pieces = []string{
	"a", "b", "c", "x", " ", "\n", "\t", "\"", "\\", "<", "&",
	"é", "中", "😀", "e\u0301", "\u0301", "𠀋", "\u2028", "\x01", "\u00a0",
}

func randText(r *rand.Rand, maxPieces int) string {
	n := r.IntN(maxPieces + 1)
	s := ""
	for range n {
		s += pieces[r.IntN(len(pieces))]
	}
	return s
}

func runeLen(s string) int { return len([]rune(s)) }

// randOp returns a random valid op for a document of docLen code points.
// It is deliberately not always normal: it may emit adjacent components of
// the same kind, deletes before inserts, and an explicit trailing retain,
// or stop early (omitted trailing retain).
func randOp(r *rand.Rand, docLen int) document.Op {
	var op document.Op
	left := docLen
	for {
		switch x := r.IntN(10); {
		case x == 0: // stop, omitting the trailing retain
			return op
		case x <= 3 && left > 0:
			n := 1 + r.IntN(min(left, 4))
			op = append(op, document.Component{Retain: n})
			left -= n
		case x <= 5 && left > 0:
			n := 1 + r.IntN(min(left, 3))
			op = append(op, document.Component{Delete: n})
			left -= n
		case x <= 8:
			if s := randText(r, 3); s != "" {
				op = append(op, document.Component{Insert: s})
			}
		default:
			if left > 0 && r.IntN(2) == 0 {
				op = append(op, document.Component{Retain: left})
			}
			return op
		}
	}
}

func mustApply(t *testing.T, s string, op document.Op) string {
	t.Helper()
	out, err := document.Apply(s, op)
	if err != nil {
		t.Fatalf("Apply(%q, %v): %v", s, op, err)
	}
	return out
}

func isNormal(op document.Op) bool {
	n := op.Normalize()
	return reflect.DeepEqual(n, op) || (len(n) == 0 && len(op) == 0)
}

func opsEqual(a, b document.Op) bool {
	return (len(a) == 0 && len(b) == 0) || reflect.DeepEqual(a, b)
}
