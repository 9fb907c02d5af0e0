package readmodel

import (
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/collabedit/collab/document"
)

// Run is a stretch of a document written by one author: Len code points
// from Start. A document's runs are in order, cover it exactly and never
// put two runs of the same author side by side.
type Run struct {
	Start  int    `json:"start"`
	Len    int    `json:"len"`
	Author string `json:"author"`
}

// runs is a document's authorship state: its runs (Start unused until
// written) and length.
type runs struct {
	list   []Run
	length int
}

// push appends n code points by author, merging with the last run.
func push(out []Run, author string, n int) []Run {
	if n == 0 {
		return out
	}
	if k := len(out) - 1; k >= 0 && out[k].Author == author {
		out[k].Len += n
		return out
	}
	return append(out, Run{Len: n, Author: author})
}

// applyOp transforms the runs through op by author: retained text keeps
// its authors, inserts are author's, deleted text goes. It returns the
// new state and the position of the op's first change. Only the runs the
// op spans (and one neighbour each side, for merging) are rebuilt and
// spliced back in place; finding them is a scan of run lengths.
func (r runs) applyOp(op document.Op, author string) (runs, int, error) {
	base := op.BaseLen()
	if base > r.length {
		return r, 0, fmt.Errorf("op spans %d code points, document has %d", base, r.length)
	}
	first := 0
	if len(op) > 0 && op[0].Retain > 0 {
		first = op[0].Retain
	}
	// k: the run holding position first-1 (0 when first is 0); e: one past
	// the first run starting at or after base, so the rebuilt span ends
	// on a run the op does not touch.
	k, kStart, pos := -1, 0, 0
	e := len(r.list)
	for i, run := range r.list {
		if k < 0 && (first == 0 || pos+run.Len >= first) {
			k, kStart = i, pos
		}
		if pos >= base && k >= 0 && i > k {
			e = i + 1
			break
		}
		pos += run.Len
	}
	if k < 0 {
		k, kStart = len(r.list), r.length
	}
	span := 0
	for _, run := range r.list[k:e] {
		span += run.Len
	}
	local := make(document.Op, len(op))
	copy(local, op)
	if first > 0 {
		local[0].Retain = first - kStart // kStart is 0 when first is
	}
	if len(local) > 0 && local[0].Retain == 0 && local[0].Insert == "" && local[0].Delete == 0 {
		local = local[1:]
	}
	mid, length := rebuild(r.list[k:e], span, local, author)
	list := slicesReplace(r.list, k, e, mid)
	return runs{list: list, length: r.length + length - span}, first, nil
}

// rebuild applies op to the runs in, which cover length code points, and
// returns the new runs and their length.
func rebuild(in []Run, length int, op document.Op, author string) ([]Run, int) {
	out := make([]Run, 0, len(in)+2)
	i, off := 0, 0
	take := func(n int, keep bool) {
		for n > 0 && i < len(in) {
			k := min(n, in[i].Len-off)
			if keep {
				out = push(out, in[i].Author, k)
			}
			off, n = off+k, n-k
			if off == in[i].Len {
				i, off = i+1, 0
			}
		}
	}
	for _, c := range op {
		switch {
		case c.Insert != "":
			n := utf8.RuneCountInString(c.Insert)
			out, length = push(out, author, n), length+n
		case c.Retain > 0:
			take(c.Retain, true)
		case c.Delete > 0:
			take(c.Delete, false)
			length -= c.Delete
		}
	}
	take(length, true) // the implicit trailing retain: the rest
	return out, length
}

// slicesReplace replaces list[k:e] by mid, in place when it fits.
func slicesReplace(list []Run, k, e int, mid []Run) []Run {
	return slices.Replace(list, k, e, mid...)
}

// from returns the index of the first run that may differ from the
// stored ones when no change happened before position pos, with the
// runs' starts filled in, and that run's start (the length when none).
func (r runs) from(pos int) (int, int) {
	start, k, kStart := 0, len(r.list), -1
	for i := range r.list {
		r.list[i].Start = start
		if kStart < 0 && (pos == 0 || start+r.list[i].Len >= pos) {
			k, kStart = i, start
		}
		start += r.list[i].Len
	}
	if kStart < 0 {
		kStart = start
	}
	return k, kStart
}
