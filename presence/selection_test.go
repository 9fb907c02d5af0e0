package presence_test

import (
	"testing"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/presence"
)

type C = document.Component

func TestSelectionTransform(t *testing.T) {
	t.Parallel()
	// Document "hello world" (11 code points) unless noted.
	for _, tc := range []struct {
		name string
		in   presence.Selection
		op   document.Op
		want presence.Selection
	}{
		{"insert before caret", presence.Selection{Anchor: 5, Head: 5}, document.Op{{Retain: 2}, {Insert: "xyz"}}, presence.Selection{Anchor: 8, Head: 8}},
		{"insert at caret follows it", presence.Selection{Anchor: 5, Head: 5}, document.Op{{Retain: 5}, {Insert: "xy"}}, presence.Selection{Anchor: 7, Head: 7}},
		{"insert after caret", presence.Selection{Anchor: 5, Head: 5}, document.Op{{Retain: 6}, {Insert: "xy"}}, presence.Selection{Anchor: 5, Head: 5}},
		{"insert counts code points", presence.Selection{Anchor: 3, Head: 3}, document.Op{{Insert: "😀é"}}, presence.Selection{Anchor: 5, Head: 5}},
		{"insert inside selection", presence.Selection{Anchor: 2, Head: 6}, document.Op{{Retain: 4}, {Insert: "ab"}}, presence.Selection{Anchor: 2, Head: 8}},
		{"insert at both ends of backward selection", presence.Selection{Anchor: 6, Head: 2}, document.Op{{Retain: 2}, {Insert: "a"}, {Retain: 4}, {Insert: "b"}}, presence.Selection{Anchor: 8, Head: 3}},
		{"delete before caret", presence.Selection{Anchor: 8, Head: 8}, document.Op{{Retain: 1}, {Delete: 3}}, presence.Selection{Anchor: 5, Head: 5}},
		{"delete after caret", presence.Selection{Anchor: 2, Head: 2}, document.Op{{Retain: 4}, {Delete: 3}}, presence.Selection{Anchor: 2, Head: 2}},
		{"delete spanning caret", presence.Selection{Anchor: 5, Head: 5}, document.Op{{Retain: 3}, {Delete: 4}}, presence.Selection{Anchor: 3, Head: 3}},
		{"delete starting at caret", presence.Selection{Anchor: 5, Head: 5}, document.Op{{Retain: 5}, {Delete: 2}}, presence.Selection{Anchor: 5, Head: 5}},
		{"delete ending at caret", presence.Selection{Anchor: 5, Head: 5}, document.Op{{Retain: 3}, {Delete: 2}}, presence.Selection{Anchor: 3, Head: 3}},
		{"delete spanning one end", presence.Selection{Anchor: 2, Head: 8}, document.Op{{Retain: 6}, {Delete: 4}}, presence.Selection{Anchor: 2, Head: 6}},
		{"delete covering selection", presence.Selection{Anchor: 4, Head: 7}, document.Op{{Retain: 2}, {Delete: 8}}, presence.Selection{Anchor: 2, Head: 2}},
		{"replace spanning caret", presence.Selection{Anchor: 5, Head: 5}, document.Op{{Retain: 3}, {Delete: 4}, {Insert: "XY"}}, presence.Selection{Anchor: 5, Head: 5}},
		{"empty op", presence.Selection{Anchor: 1, Head: 4}, nil, presence.Selection{Anchor: 1, Head: 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.Transform(tc.op); got != tc.want {
				t.Fatalf("%+v.Transform(%v) = %+v, want %+v", tc.in, tc.op, got, tc.want)
			}
			// Both ends follow TransformIndex exactly.
			for _, pos := range []int{tc.in.Anchor, tc.in.Head} {
				single := presence.Selection{Anchor: pos, Head: pos}.Transform(tc.op)
				if w := document.TransformIndex(pos, tc.op, false); single.Anchor != w || single.Head != w {
					t.Fatalf("caret %d -> %+v, TransformIndex says %d", pos, single, w)
				}
			}
		})
	}
}
