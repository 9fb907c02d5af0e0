package protocol_test

import (
	"testing"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/protocol"
)

func TestSelectionTransform(t *testing.T) {
	// Document "hello world" (11 code points) unless noted.
	for _, tc := range []struct {
		name string
		in   protocol.Selection
		op   document.Op
		want protocol.Selection
	}{
		{"insert before caret", protocol.Selection{Anchor: 5, Head: 5}, document.Op{{Retain: 2}, {Insert: "xyz"}}, protocol.Selection{Anchor: 8, Head: 8}},
		{"insert at caret follows it", protocol.Selection{Anchor: 5, Head: 5}, document.Op{{Retain: 5}, {Insert: "xy"}}, protocol.Selection{Anchor: 7, Head: 7}},
		{"insert after caret", protocol.Selection{Anchor: 5, Head: 5}, document.Op{{Retain: 6}, {Insert: "xy"}}, protocol.Selection{Anchor: 5, Head: 5}},
		{"insert counts code points", protocol.Selection{Anchor: 3, Head: 3}, document.Op{{Insert: "😀é"}}, protocol.Selection{Anchor: 5, Head: 5}},
		{"insert inside selection", protocol.Selection{Anchor: 2, Head: 6}, document.Op{{Retain: 4}, {Insert: "ab"}}, protocol.Selection{Anchor: 2, Head: 8}},
		{"insert at both ends of backward selection", protocol.Selection{Anchor: 6, Head: 2}, document.Op{{Retain: 2}, {Insert: "a"}, {Retain: 4}, {Insert: "b"}}, protocol.Selection{Anchor: 8, Head: 3}},
		{"delete before caret", protocol.Selection{Anchor: 8, Head: 8}, document.Op{{Retain: 1}, {Delete: 3}}, protocol.Selection{Anchor: 5, Head: 5}},
		{"delete after caret", protocol.Selection{Anchor: 2, Head: 2}, document.Op{{Retain: 4}, {Delete: 3}}, protocol.Selection{Anchor: 2, Head: 2}},
		{"delete spanning caret", protocol.Selection{Anchor: 5, Head: 5}, document.Op{{Retain: 3}, {Delete: 4}}, protocol.Selection{Anchor: 3, Head: 3}},
		{"delete starting at caret", protocol.Selection{Anchor: 5, Head: 5}, document.Op{{Retain: 5}, {Delete: 2}}, protocol.Selection{Anchor: 5, Head: 5}},
		{"delete ending at caret", protocol.Selection{Anchor: 5, Head: 5}, document.Op{{Retain: 3}, {Delete: 2}}, protocol.Selection{Anchor: 3, Head: 3}},
		{"delete spanning one end", protocol.Selection{Anchor: 2, Head: 8}, document.Op{{Retain: 6}, {Delete: 4}}, protocol.Selection{Anchor: 2, Head: 6}},
		{"delete covering selection", protocol.Selection{Anchor: 4, Head: 7}, document.Op{{Retain: 2}, {Delete: 8}}, protocol.Selection{Anchor: 2, Head: 2}},
		{"replace spanning caret", protocol.Selection{Anchor: 5, Head: 5}, document.Op{{Retain: 3}, {Delete: 4}, {Insert: "XY"}}, protocol.Selection{Anchor: 5, Head: 5}},
		{"empty op", protocol.Selection{Anchor: 1, Head: 4}, nil, protocol.Selection{Anchor: 1, Head: 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.Transform(tc.op); got != tc.want {
				t.Fatalf("%+v.Transform(%v) = %+v, want %+v", tc.in, tc.op, got, tc.want)
			}
			// Both ends follow TransformIndex exactly.
			for _, pos := range []int{tc.in.Anchor, tc.in.Head} {
				single := protocol.Selection{Anchor: pos, Head: pos}.Transform(tc.op)
				if w := document.TransformIndex(pos, tc.op, false); single.Anchor != w || single.Head != w {
					t.Fatalf("caret %d -> %+v, TransformIndex says %d", pos, single, w)
				}
			}
		})
	}
}
