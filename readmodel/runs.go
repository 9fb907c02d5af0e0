package readmodel

import (
	"fmt"
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
// new state and the position of the op's first change.
func (r runs) applyOp(op document.Op, author string) (runs, int, error) {
	if op.BaseLen() > r.length {
		return r, 0, fmt.Errorf("op spans %d code points, document has %d", op.BaseLen(), r.length)
	}
	out := make([]Run, 0, len(r.list)+2)
	i, off := 0, 0
	take := func(n int, keep bool) {
		for n > 0 && i < len(r.list) {
			k := min(n, r.list[i].Len-off)
			if keep {
				out = push(out, r.list[i].Author, k)
			}
			off, n = off+k, n-k
			if off == r.list[i].Len {
				i, off = i+1, 0
			}
		}
	}
	length := r.length
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
	first := 0
	if len(op) > 0 && op[0].Retain > 0 {
		first = op[0].Retain
	}
	return runs{list: out, length: length}, first, nil
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
