package document

import (
	"strings"
	"unicode/utf8"
)

// minGap is the free space (in code points) kept after a reallocation.
// 256 runes = 1 KiB: enough that a burst of typing does not reallocate,
// small next to the document itself.
const minGap = 256

// Text is a mutable document body optimised for many small local edits.
// It is a gap buffer of code points: the free space (the gap) sits at the
// last edit position, so an edit near the previous one costs O(size of
// the edit + distance moved), not O(document length). Replaying the 260k
// single-character edits of the automerge-paper trace onto one Text takes
// milliseconds, where rebuilding a string per edit would copy ~13 GB.
//
// The zero Text is an empty document ready to use. Text is not safe for
// concurrent use.
type Text struct {
	buf    []rune
	gs, ge int // the gap is buf[gs:ge]; text is buf[:gs] + buf[ge:]
}

// NewText returns a Text holding s. Invalid UTF-8 bytes in s count as one
// code point each and are stored as U+FFFD.
func NewText(s string) *Text {
	n := utf8.RuneCountInString(s)
	buf := make([]rune, n+max(minGap, n/8))
	i := 0
	for _, r := range s {
		buf[i] = r
		i++
	}
	return &Text{buf: buf, gs: n, ge: len(buf)}
}

// Len returns the length of the text in code points.
func (t *Text) Len() int { return len(t.buf) - (t.ge - t.gs) }

// String returns the text as a string.
func (t *Text) String() string {
	var sb strings.Builder
	sb.Grow(t.Len()) // exact for ASCII; grows once more otherwise
	for _, r := range t.buf[:t.gs] {
		sb.WriteRune(r)
	}
	for _, r := range t.buf[t.ge:] {
		sb.WriteRune(r)
	}
	return sb.String()
}

// Apply applies op to the text. It first checks the whole op (structure,
// and BaseLen <= Len); on error it returns an *OpError and the text is
// unchanged, so Apply is atomic.
func (t *Text) Apply(op Op) error {
	n := t.Len()
	base, ins := 0, 0
	for i, c := range op {
		if err := checkComponent(i, c); err != nil {
			return err
		}
		switch {
		case c.Retain > 0:
			base += c.Retain
			if base > n {
				return opErr(i, "retain past end of document (length %d)", n)
			}
		case c.Delete > 0:
			base += c.Delete
			if base > n {
				return opErr(i, "delete past end of document (length %d)", n)
			}
		default:
			ins += utf8.RuneCountInString(c.Insert)
		}
	}
	// Reserve room for every insert up front; the loop below cannot fail.
	t.reserve(ins)
	pos := 0
	for _, c := range op {
		switch {
		case c.Retain > 0:
			pos += c.Retain
		case c.Delete > 0:
			t.moveGap(pos)
			t.ge += c.Delete
		default:
			t.moveGap(pos)
			gs := t.gs
			for _, r := range c.Insert {
				t.buf[gs] = r
				gs++
			}
			pos += gs - t.gs
			t.gs = gs
		}
	}
	return nil
}

// moveGap moves the gap so that it starts at text position pos.
func (t *Text) moveGap(pos int) {
	switch {
	case pos < t.gs:
		n := t.gs - pos
		copy(t.buf[t.ge-n:t.ge], t.buf[pos:t.gs])
		t.gs -= n
		t.ge -= n
	case pos > t.gs:
		n := pos - t.gs
		copy(t.buf[t.gs:t.gs+n], t.buf[t.ge:t.ge+n])
		t.gs += n
		t.ge += n
	}
}

// reserve makes the gap at least need code points wide. It doubles the
// buffer when it grows, so appends cost O(1) amortised.
func (t *Text) reserve(need int) {
	if t.ge-t.gs >= need {
		return
	}
	n := t.Len()
	size := max(2*len(t.buf), n+need+minGap)
	buf := make([]rune, size)
	copy(buf, t.buf[:t.gs])
	tail := len(t.buf) - t.ge
	copy(buf[size-tail:], t.buf[t.ge:])
	t.ge = size - tail
	t.buf = buf
}
