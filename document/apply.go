package document

import (
	"strings"
	"unicode/utf8"
)

// Apply applies op to text and returns the result. It returns an *OpError
// (and text unchanged) if op is structurally invalid or retains or deletes
// past the end of text. A trailing part of text that op does not reach is
// kept.
//
// Apply copies the whole string, so it costs O(len(text)) per call; use
// Text for long sequences of edits.
func Apply(text string, op Op) (string, error) {
	grow := len(text)
	for i, c := range op {
		if err := checkComponent(i, c); err != nil {
			return text, err
		}
		grow += len(c.Insert)
	}
	var sb strings.Builder
	sb.Grow(grow)
	pos := 0 // byte offset into text
	for i, c := range op {
		switch {
		case c.Retain > 0:
			end, ok := advance(text, pos, c.Retain)
			if !ok {
				return text, opErr(i, "retain past end of document (length %d)", utf8.RuneCountInString(text))
			}
			sb.WriteString(text[pos:end])
			pos = end
		case c.Delete > 0:
			end, ok := advance(text, pos, c.Delete)
			if !ok {
				return text, opErr(i, "delete past end of document (length %d)", utf8.RuneCountInString(text))
			}
			pos = end
		default:
			sb.WriteString(c.Insert)
		}
	}
	sb.WriteString(text[pos:])
	return sb.String(), nil
}

// advance returns the byte offset n code points after byte offset i in s,
// and false if s ends first.
func advance(s string, i, n int) (int, bool) {
	for ; n > 0; n-- {
		if i >= len(s) {
			return i, false
		}
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return i, true
}

// piece is a (possibly partial) component being consumed by reader.
// n is its length in code points; s is the text of an insert.
type piece struct {
	k kind
	n int
	s string
}

// reader walks an op component by component, splitting components on
// demand. Past the end it yields kNone, which callers treat as the
// implicit infinite trailing retain.
type reader struct {
	op  Op
	i   int
	cur piece
}

func newReader(op Op) reader {
	r := reader{op: op}
	r.next()
	return r
}

// next loads the next non-empty component into cur.
func (r *reader) next() {
	for r.i < len(r.op) {
		c := r.op[r.i]
		r.i++
		switch classify(c) {
		case kInsert:
			r.cur = piece{kInsert, utf8.RuneCountInString(c.Insert), c.Insert}
			return
		case kRetain:
			r.cur = piece{k: kRetain, n: c.Retain}
			return
		case kDelete:
			r.cur = piece{k: kDelete, n: c.Delete}
			return
		}
	}
	r.cur = piece{}
}

// take consumes and returns up to m code points of the current piece.
func (r *reader) take(m int) piece {
	p := r.cur
	if p.n <= m {
		r.next()
		return p
	}
	if p.k == kInsert {
		off := runeOffset(p.s, m)
		r.cur.s = p.s[off:]
		p.s = p.s[:off]
	}
	r.cur.n -= m
	p.n = m
	return p
}

// takeAll consumes and returns the whole current piece.
func (r *reader) takeAll() piece {
	p := r.cur
	r.next()
	return p
}
