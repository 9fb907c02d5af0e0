package query

import (
	"context"
	"fmt"
	"net/http"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
)

// maxDiffSpan bounds the versions one diff spans.
const maxDiffSpan = 100_000

// maxComposeSpan is the longest span diffed by composing its ops. Reading
// and composing ops costs in proportion to the span (a typing history of
// 11,500 versions: 300 ms), so longer spans compare the two texts
// instead, which costs in proportion to the text, whatever the span
// (text diff.go). 2,000 typing ops compose in about 40 ms.
const maxComposeSpan = 2_000

// Segment is one piece of a diff: Op is "equal", "insert" or "delete".
type Segment struct {
	Op   string `json:"op"`
	Text string `json:"text"`
}

// diffBody is the body of GET /api/v1/docs/{doc}/diff.
type diffBody struct {
	Doc      string       `json:"id"`
	From     int64        `json:"from"`
	To       int64        `json:"to"`
	Segments []Segment    `json:"segments"`
	Read     ReadPosition `json:"read"`
}

// diff answers GET /api/v1/docs/{doc}/diff?from=V1&to=V2: the text at V1
// and the ops from V1 to V2 composed into one, read as segments.
func (a *api) diff(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(ctx context.Context) (any, error) {
		doc, err := a.docParam(r)
		if err != nil {
			return nil, err
		}
		from, okFrom, err := intParam(r, "from")
		if err != nil {
			return nil, err
		}
		to, okTo, err := intParam(r, "to")
		switch {
		case err != nil:
			return nil, err
		case !okFrom || !okTo || from > to:
			return nil, badRequest("from and to must be versions with from <= to")
		case to-from > maxDiffSpan:
			return nil, badRequest("a diff spans at most %d versions", maxDiffSpan)
		}
		head, err := a.head(ctx, doc)
		if err != nil {
			return nil, err
		}
		if to > head {
			return nil, notFound("document %q has no version %d (head %d)", doc, to, head)
		}
		return a.diffBody(ctx, doc, from, to)
	})
}

func (a *api) diffBody(ctx context.Context, doc string, from, to int64) (any, error) {
	base, last, err := textAt(ctx, a.store, doc, from)
	if err != nil {
		return nil, err
	}
	if to-from > maxComposeSpan {
		return a.textDiffBody(ctx, doc, base, from, to)
	}
	var evs []eventlog.Event
	if to > from { // a limit of 0 would read them all
		evs, err = a.store.Events(ctx, doc, from, int(to-from))
	}
	if err != nil {
		return nil, fmt.Errorf("query: diff %q: %w", doc, err)
	}
	if int64(len(evs)) != to-from {
		return nil, notFound("document %q has no version %d", doc, to)
	}
	op, err := composeAll(evs)
	if err != nil {
		return nil, fmt.Errorf("query: diff %q: %w", doc, err)
	}
	if len(evs) > 0 {
		last = evs[len(evs)-1]
	}
	return diffBody{Doc: doc, From: from, To: to, Segments: Segments([]rune(base.String()), op),
		Read: ReadPosition{Version: to, Seq: last.Seq}}, nil
}

// composeAll composes the events' ops into one, pairwise (a balanced
// tree, so each level costs the ops' total size once).
func composeAll(evs []eventlog.Event) (document.Op, error) {
	ops := make([]document.Op, len(evs))
	for i, e := range evs {
		if err := ops[i].UnmarshalJSON(e.Op); err != nil {
			return nil, fmt.Errorf("version %d: %w", e.Version, err)
		}
	}
	for len(ops) > 1 {
		next := ops[:0:0]
		for i := 0; i < len(ops); i += 2 {
			if i+1 == len(ops) {
				next = append(next, ops[i])
				continue
			}
			c, err := document.Compose(ops[i], ops[i+1])
			if err != nil {
				return nil, err
			}
			next = append(next, c)
		}
		ops = next
	}
	if len(ops) == 0 {
		return nil, nil
	}
	return ops[0], nil
}

// Segments reads op applied to base as a diff: retained text equal,
// inserts inserted, deleted text deleted, the rest of base equal;
// neighbouring segments of one kind merged.
func Segments(base []rune, op document.Op) []Segment {
	out := []Segment{}
	add := func(kind, text string) {
		if text == "" {
			return
		}
		if k := len(out) - 1; k >= 0 && out[k].Op == kind {
			out[k].Text += text
			return
		}
		out = append(out, Segment{Op: kind, Text: text})
	}
	pos := 0
	for _, c := range op {
		switch {
		case c.Insert != "":
			add("insert", c.Insert)
		case c.Retain > 0:
			end := min(pos+c.Retain, len(base))
			add("equal", string(base[pos:end]))
			pos = end
		case c.Delete > 0:
			end := min(pos+c.Delete, len(base))
			add("delete", string(base[pos:end]))
			pos = end
		}
	}
	add("equal", string(base[pos:]))
	return out
}
