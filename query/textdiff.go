package query

import (
	"context"
	"time"

	"github.com/sergi/go-diff/diffmatchpatch"

	"github.com/collabedit/collab/document"
)

// textDiffTimeout bounds one text comparison. diff-match-patch's bisection
// is O(N·D) for texts with D differences; past the deadline it returns a
// coarser but still correct diff (larger segments). Two 30,000-character
// versions of a typing history 45,000 versions apart took 240 ms to
// compare in full, to show a thousand scattered changes that read as
// noise anyway; texts that close (most scrubbing) finish well within it.
const textDiffTimeout = 50 * time.Millisecond

// textDiffBody answers a diff over a long span by comparing the texts at
// its ends (each a snapshot plus at most one snapshot interval of
// events), using diff-match-patch (github.com/sergi/go-diff) with its
// semantic cleanup, so the segments fall on word boundaries where it can.
// Like the composed diff, the segments turn the text at from into the
// text at to.
func (a *api) textDiffBody(ctx context.Context, doc string, base *document.Text, from, to int64) (any, error) {
	target, last, err := textAt(ctx, a.store, doc, to)
	if err != nil {
		return nil, err
	}
	return diffBody{Doc: doc, From: from, To: to, Segments: TextSegments(base.String(), target.String()),
		Read: ReadPosition{Version: to, Seq: last.Seq}}, nil
}

// TextSegments compares two texts as diff segments that turn from into
// to.
func TextSegments(from, to string) []Segment {
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = textDiffTimeout
	diffs := dmp.DiffCleanupSemantic(dmp.DiffMain(from, to, true))
	out := make([]Segment, 0, len(diffs))
	for _, d := range diffs {
		if d.Text == "" {
			continue
		}
		kind := "equal"
		switch d.Type {
		case diffmatchpatch.DiffInsert:
			kind = "insert"
		case diffmatchpatch.DiffDelete:
			kind = "delete"
		}
		if k := len(out) - 1; k >= 0 && out[k].Op == kind {
			out[k].Text += d.Text
			continue
		}
		out = append(out, Segment{Op: kind, Text: d.Text})
	}
	return out
}
