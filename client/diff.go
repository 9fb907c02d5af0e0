package client

import (
	"unicode/utf8"

	"github.com/collabedit/collab/document"
)

// diff returns an op turning a into b: it keeps their common prefix and
// suffix (in code points) and replaces the middle. It is not minimal, but
// it is exact, which is all a resync needs: pending edits are transformed
// against it as if it were one remote op.
func diff(a, b string) document.Op {
	ra, rb := []rune(a), []rune(b)
	p := 0
	for p < len(ra) && p < len(rb) && ra[p] == rb[p] {
		p++
	}
	s := 0
	for s < len(ra)-p && s < len(rb)-p && ra[len(ra)-1-s] == rb[len(rb)-1-s] {
		s++
	}
	return document.FromPatch(p, len(ra)-p-s, string(rb[p:len(rb)-s]))
}

// invert returns the op that undoes op on Apply(text, op): applied to the
// result it gives text back. op must fit text.
func invert(text string, op document.Op) document.Op {
	var inv document.Op
	pos := 0 // byte offset into text
	for _, c := range op {
		switch {
		case c.Insert != "":
			inv = append(inv, document.Component{Delete: utf8.RuneCountInString(c.Insert)})
		case c.Retain > 0:
			pos = skip(text, pos, c.Retain)
			inv = append(inv, document.Component{Retain: c.Retain})
		case c.Delete > 0:
			end := skip(text, pos, c.Delete)
			inv = append(inv, document.Component{Insert: text[pos:end]})
			pos = end
		}
	}
	return inv.Normalize()
}

// skip returns the byte offset n code points after byte offset i in s.
func skip(s string, i, n int) int {
	for ; n > 0 && i < len(s); n-- {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return i
}

// compose is document.Compose for ops known to be valid; a nil first op
// means "nothing yet".
func compose(a, b document.Op) document.Op {
	if a == nil {
		return b
	}
	op, err := document.Compose(a, b)
	if err != nil {
		// Both ops were validated by Apply before reaching here.
		panic("client: compose of validated ops failed: " + err.Error())
	}
	return op
}
