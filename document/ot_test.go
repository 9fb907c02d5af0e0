package document_test

import (
	"errors"
	"testing"

	"github.com/collabedit/collab/document"
)

func TestApply(t *testing.T) {
	cases := []struct {
		doc  string
		op   document.Op
		want string
		err  string // expected error message, "" for success
	}{
		{"", nil, "", ""},
		{"abc", document.Op{}, "abc", ""},
		{"abc", document.Op{{Retain: 1}, {Insert: "X"}}, "aXbc", ""},
		{"abc", document.Op{{Insert: "X"}, {Delete: 1}}, "Xbc", ""},
		{"abc", document.Op{{Retain: 3}, {Insert: "!"}}, "abc!", ""},
		{"abc", document.Op{{Delete: 3}}, "", ""},
		{"😀b", document.Op{{Retain: 1}, {Delete: 1}}, "😀", ""},        // emoji has length 1
		{"e\u0301x", document.Op{{Retain: 1}, {Delete: 1}}, "ex", ""}, // combining mark is its own code point
		{"𠀋", document.Op{{Delete: 1}, {Insert: "a"}}, "a", ""},
		{"abc", document.Op{{Retain: 4}}, "", "invalid op: component 0: retain past end of document (length 3)"},
		{"abc", document.Op{{Retain: 2}, {Delete: 2}}, "", "invalid op: component 1: delete past end of document (length 3)"},
		{"😀😀", document.Op{{Retain: 3}}, "", "invalid op: component 0: retain past end of document (length 2)"},
		{"abc", document.Op{{}}, "", "invalid op: component 0: empty component"},
		{"abc", document.Op{{Retain: 1, Delete: 1}}, "", "invalid op: component 0: more than one of retain, delete and insert set"},
		{"abc", document.Op{{Retain: -1}}, "", "invalid op: component 0: negative retain -1"},
		{"abc", document.Op{{Insert: "a\xffb"}}, "", "invalid op: component 0: insert is not valid UTF-8"},
	}
	for _, tc := range cases {
		got, err := document.Apply(tc.doc, tc.op)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err || !errors.Is(err, document.ErrInvalidOp) {
				t.Errorf("Apply(%q, %v) err = %v, want %q", tc.doc, tc.op, err, tc.err)
			}
			if got != tc.doc {
				t.Errorf("Apply(%q, %v) on error returned %q", tc.doc, tc.op, got)
			}
			txt := document.NewText(tc.doc)
			if err := txt.Apply(tc.op); err == nil || err.Error() != tc.err || txt.String() != tc.doc {
				t.Errorf("Text.Apply(%q, %v) err = %v, text %q", tc.doc, tc.op, err, txt.String())
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Apply(%q, %v) = %q, %v; want %q", tc.doc, tc.op, got, err, tc.want)
		}
		txt := document.NewText(tc.doc)
		if err := txt.Apply(tc.op); err != nil || txt.String() != tc.want || txt.Len() != runeLen(tc.want) {
			t.Errorf("Text.Apply(%q, %v) = %q (len %d), %v", tc.doc, tc.op, txt.String(), txt.Len(), err)
		}
	}
}

func TestOpErrorMessage(t *testing.T) {
	if got := (&document.OpError{Index: -1, Reason: "empty input"}).Error(); got != "invalid op: empty input" {
		t.Errorf("got %q", got)
	}
	if got := (&document.OpError{Index: 2, Reason: "x"}).Error(); got != "invalid op: component 2: x" {
		t.Errorf("got %q", got)
	}
}

func TestOpMetrics(t *testing.T) {
	op := document.Op{{Retain: 2}, {Insert: "😀é"}, {Delete: 3}, {Retain: 1}}
	if op.BaseLen() != 6 || op.Delta() != -1 || op.IsNoop() {
		t.Errorf("BaseLen %d Delta %d IsNoop %v", op.BaseLen(), op.Delta(), op.IsNoop())
	}
	if !(document.Op{{Retain: 5}}).IsNoop() || !(document.Op{}).IsNoop() {
		t.Error("retain-only op not a no-op")
	}
}

func TestNormalize(t *testing.T) {
	cases := []struct{ in, want document.Op }{
		{nil, nil},
		{document.Op{{Retain: 3}}, document.Op{}},
		{document.Op{{Retain: 1}, {Retain: 2}, {Insert: "a"}, {Insert: "b"}}, document.Op{{Retain: 3}, {Insert: "ab"}}},
		{document.Op{{Delete: 1}, {Insert: "a"}}, document.Op{{Insert: "a"}, {Delete: 1}}},
		{document.Op{{Insert: "a"}, {Delete: 1}, {Insert: "b"}, {Delete: 2}}, document.Op{{Insert: "ab"}, {Delete: 3}}},
		{document.Op{{Delete: 1}, {Delete: 1}, {Retain: 1}, {Retain: 1}}, document.Op{{Delete: 2}}},
		{document.Op{{}, {Retain: 1}, {}, {Insert: "x"}}, document.Op{{Retain: 1}, {Insert: "x"}}},
	}
	for _, tc := range cases {
		in := append(document.Op(nil), tc.in...)
		got := tc.in.Normalize()
		if !opsEqual(got, tc.want) {
			t.Errorf("Normalize(%v) = %v, want %v", tc.in, got, tc.want)
		}
		if !opsEqual(in, tc.in) {
			t.Errorf("Normalize mutated its input: %v -> %v", in, tc.in)
		}
	}
	// An already normal op is returned as is (no copy).
	op := document.Op{{Retain: 1}, {Insert: "a"}, {Delete: 1}}
	if n := op.Normalize(); &n[0] != &op[0] {
		t.Error("Normalize copied a normal op")
	}
}

func TestFromPatch(t *testing.T) {
	cases := []struct {
		pos, del int
		ins      string
		want     document.Op
	}{
		{0, 0, "a", document.Op{{Insert: "a"}}},
		{3, 0, "a", document.Op{{Retain: 3}, {Insert: "a"}}},
		{3, 2, "", document.Op{{Retain: 3}, {Delete: 2}}},
		{3, 2, "xy", document.Op{{Retain: 3}, {Insert: "xy"}, {Delete: 2}}},
		{5, 0, "", document.Op{}},
	}
	for _, tc := range cases {
		if got := document.FromPatch(tc.pos, tc.del, tc.ins); !opsEqual(got, tc.want) {
			t.Errorf("FromPatch(%d, %d, %q) = %v, want %v", tc.pos, tc.del, tc.ins, got, tc.want)
		}
	}
}

func TestCompose(t *testing.T) {
	cases := []struct {
		name string
		a, b document.Op
		want document.Op
	}{
		{"inserts", document.Op{{Insert: "ab"}}, document.Op{{Retain: 1}, {Insert: "X"}}, document.Op{{Insert: "aXb"}}},
		{"delete own insert", document.Op{{Retain: 1}, {Insert: "😀é"}}, document.Op{{Retain: 1}, {Delete: 1}}, document.Op{{Retain: 1}, {Insert: "é"}}},
		{"delete across", document.Op{{Retain: 1}, {Insert: "xy"}}, document.Op{{Delete: 2}}, document.Op{{Delete: 1}, {Insert: "y"}}.Normalize()},
		{"b beyond a's explicit end", document.Op{{Insert: "x"}}, document.Op{{Retain: 3}, {Delete: 1}}, document.Op{{Insert: "x"}, {Retain: 2}, {Delete: 1}}},
		{"cancel", document.Op{{Retain: 2}, {Insert: "abc"}}, document.Op{{Retain: 2}, {Delete: 3}}, document.Op{}},
		{"deletes accumulate", document.Op{{Delete: 1}}, document.Op{{Delete: 1}}, document.Op{{Delete: 2}}},
	}
	for _, tc := range cases {
		got, err := document.Compose(tc.a, tc.b)
		if err != nil || !opsEqual(got, tc.want) {
			t.Errorf("%s: Compose(%v, %v) = %v, %v; want %v", tc.name, tc.a, tc.b, got, err, tc.want)
		}
	}
	if _, err := document.Compose(document.Op{{}}, nil); !errors.Is(err, document.ErrInvalidOp) {
		t.Errorf("invalid a: err = %v", err)
	}
	if _, err := document.Compose(nil, document.Op{{Delete: -1}}); !errors.Is(err, document.ErrInvalidOp) {
		t.Errorf("invalid b: err = %v", err)
	}
}

func TestTransform(t *testing.T) {
	cases := []struct {
		name         string
		doc          string
		a, b         document.Op
		aPrime, bPri document.Op
		want         string
	}{
		{
			name: "tie: a's insert goes first",
			doc:  "xy", a: document.Op{{Retain: 1}, {Insert: "A"}}, b: document.Op{{Retain: 1}, {Insert: "B"}},
			aPrime: document.Op{{Retain: 1}, {Insert: "A"}}, bPri: document.Op{{Retain: 2}, {Insert: "B"}},
			want: "xABy",
		},
		{
			name: "tie at start",
			doc:  "", a: document.Op{{Insert: "😀"}}, b: document.Op{{Insert: "b"}},
			aPrime: document.Op{{Insert: "😀"}}, bPri: document.Op{{Retain: 1}, {Insert: "b"}},
			want: "😀b",
		},
		{
			name: "tie with non-normal delete-then-insert behaves like normal form",
			doc:  "abc", a: document.Op{{Retain: 1}, {Delete: 1}, {Insert: "A"}}, b: document.Op{{Retain: 1}, {Insert: "B"}},
			aPrime: document.Op{{Retain: 1}, {Insert: "A"}, {Retain: 1}, {Delete: 1}}, bPri: document.Op{{Retain: 2}, {Insert: "B"}},
			want: "aABc",
		},
		{
			name: "overlapping deletes",
			doc:  "abcdef", a: document.Op{{Retain: 1}, {Delete: 3}}, b: document.Op{{Retain: 2}, {Delete: 3}},
			aPrime: document.Op{{Retain: 1}, {Delete: 1}}, bPri: document.Op{{Retain: 1}, {Delete: 1}},
			want: "af",
		},
		{
			name: "identical deletes",
			doc:  "abc", a: document.Op{{Delete: 2}}, b: document.Op{{Delete: 2}},
			aPrime: document.Op{}, bPri: document.Op{},
			want: "c",
		},
		{
			name: "insert inside a deleted range survives",
			doc:  "abcdef", a: document.Op{{Retain: 3}, {Insert: "X"}}, b: document.Op{{Retain: 1}, {Delete: 4}},
			aPrime: document.Op{{Retain: 1}, {Insert: "X"}}, bPri: document.Op{{Retain: 1}, {Delete: 2}, {Retain: 1}, {Delete: 2}},
			want: "aXf",
		},
		{
			name: "omitted trailing retains of different lengths",
			doc:  "abcdefgh", a: document.Op{{Insert: "S"}}, b: document.Op{{Retain: 6}, {Delete: 1}},
			aPrime: document.Op{{Insert: "S"}}, bPri: document.Op{{Retain: 7}, {Delete: 1}},
			want: "Sabcdefh",
		},
		{
			name: "long a against short b",
			doc:  "abcdefgh", a: document.Op{{Retain: 7}, {Delete: 1}, {Insert: "Z"}}, b: document.Op{{Delete: 1}},
			aPrime: document.Op{{Retain: 6}, {Insert: "Z"}, {Delete: 1}}, bPri: document.Op{{Delete: 1}},
			want: "bcdefgZ",
		},
		{
			name: "astral and combining characters count as one each",
			doc:  "😀e\u0301𠀋", a: document.Op{{Retain: 3}, {Insert: "!"}}, b: document.Op{{Delete: 2}},
			aPrime: document.Op{{Retain: 1}, {Insert: "!"}}, bPri: document.Op{{Delete: 2}},
			want: "\u0301!𠀋",
		},
	}
	for _, tc := range cases {
		ap, bp := document.Transform(tc.a, tc.b)
		if !opsEqual(ap, tc.aPrime) || !opsEqual(bp, tc.bPri) {
			t.Errorf("%s: Transform = %v, %v; want %v, %v", tc.name, ap, bp, tc.aPrime, tc.bPri)
		}
		left := mustApply(t, mustApply(t, tc.doc, tc.b), ap)
		right := mustApply(t, mustApply(t, tc.doc, tc.a), bp)
		if left != tc.want || right != tc.want {
			t.Errorf("%s: b then a' = %q, a then b' = %q; want %q", tc.name, left, right, tc.want)
		}
	}
}

func TestTransformIndex(t *testing.T) {
	op := document.Op{{Retain: 2}, {Insert: "XY"}, {Retain: 2}, {Delete: 3}, {Retain: 1}, {Insert: "😀"}}
	// doc positions 0..9 (length 9): "ab|XY|cd[efg]h|😀|i"
	cases := []struct {
		pos  int
		own  bool
		want int
		desc string
	}{
		{0, false, 0, "before everything"},
		{1, false, 1, "before the insert"},
		{2, false, 4, "at the insert: moves after it"},
		{2, true, 2, "at the insert, ownInsertsFirst: stays"},
		{3, false, 5, "after the insert"},
		{4, false, 6, "at the start of the deleted range"},
		{5, false, 6, "inside the deleted range"},
		{7, false, 6, "at the end of the deleted range"},
		{8, false, 8, "at the emoji insert: moves after it"},
		{8, true, 7, "at the emoji insert, ownInsertsFirst"},
		{9, false, 9, "end of document"},
		{-3, false, 0, "negative clamps to 0"},
	}
	for _, tc := range cases {
		got := document.TransformIndex(tc.pos, op, tc.own)
		if got != tc.want {
			t.Errorf("%s: TransformIndex(%d, own=%v) = %d, want %d", tc.desc, tc.pos, tc.own, got, tc.want)
		}
	}
	// An insert right after a delete that starts at pos counts as at pos.
	nonNormal := document.Op{{Retain: 1}, {Delete: 1}, {Insert: "Z"}}
	if got := document.TransformIndex(1, nonNormal, false); got != 2 {
		t.Errorf("non-normal op: got %d, want 2", got)
	}
	if got := document.TransformIndex(1, nonNormal, true); got != 1 {
		t.Errorf("non-normal op, own: got %d, want 1", got)
	}
}
