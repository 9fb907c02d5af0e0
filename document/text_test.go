package document_test

import (
	"strings"
	"testing"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/internal/testenv"
)

func TestTextBasics(t *testing.T) {
	txt := document.NewText("a😀e\u0301𠀋")
	if txt.Len() != 5 {
		t.Fatalf("Len = %d, want 5", txt.Len())
	}
	steps := []struct {
		op   document.Op
		want string
	}{
		{document.Op{{Retain: 1}, {Delete: 1}, {Insert: "b"}}, "abe\u0301𠀋"},
		{document.Op{{Retain: 5}, {Insert: "!"}}, "abe\u0301𠀋!"},
		{document.Op{{Insert: "^"}}, "^abe\u0301𠀋!"},
		{document.Op{{Retain: 3}, {Delete: 2}}, "^ab𠀋!"},
		{document.Op{{Delete: 5}}, ""},
	}
	for _, s := range steps {
		if err := txt.Apply(s.op); err != nil {
			t.Fatal(err)
		}
		if txt.String() != s.want || txt.Len() != runeLen(s.want) {
			t.Fatalf("after %v: %q (len %d), want %q", s.op, txt.String(), txt.Len(), s.want)
		}
	}
	// Growth: a large insert into a small buffer, then edits on both sides.
	big := strings.Repeat("xy😀", 1000)
	if err := txt.Apply(document.Op{{Insert: big}}); err != nil || txt.String() != big {
		t.Fatalf("big insert: %v", err)
	}
	if err := txt.Apply(document.Op{{Insert: "A"}, {Retain: 2999}, {Insert: "Z"}, {Delete: 1}}); err != nil {
		t.Fatal(err)
	}
	if want := "A" + big[:len(big)-4] + "Z"; txt.String() != want {
		t.Fatalf("edit at both ends wrong")
	}
}

func TestTextAtomic(t *testing.T) {
	txt := document.NewText("abc")
	// The insert comes before the bad retain; it must not be applied.
	err := txt.Apply(document.Op{{Insert: "X"}, {Retain: 2}, {Delete: 2}})
	if err == nil || err.Error() != "invalid op: component 2: delete past end of document (length 3)" {
		t.Fatalf("err = %v", err)
	}
	if txt.String() != "abc" {
		t.Fatalf("text changed on error: %q", txt.String())
	}
	if err := txt.Apply(document.Op{{Insert: "X"}, {Insert: "\xff"}}); err == nil || txt.String() != "abc" {
		t.Fatalf("invalid UTF-8: err %v, text %q", err, txt.String())
	}
}

// TestReplayAutomergePaper applies every op of the trace to a Text and
// checks the final content, then checks Transform and Compose against a
// prefix of the real edits.
func TestReplayAutomergePaper(t *testing.T) {
	tr := testenv.Trace(t, "automerge-paper.json.gz")
	ops := tr.Ops()
	txt := document.NewText(tr.StartContent)
	for i, op := range ops {
		if err := txt.Apply(op); err != nil {
			t.Fatalf("op %d (%v): %v", i, op, err)
		}
	}
	if txt.String() != tr.EndContent {
		t.Fatal("final text differs from endContent")
	}
	if txt.Len() != 104852 {
		t.Fatalf("final length %d, want 104852", txt.Len())
	}

	// Composing the first 2,000 real edits into one op gives the same text.
	s := tr.StartContent
	var acc document.Op
	for _, op := range ops[:2000] {
		var err error
		if acc, err = document.Compose(acc, op); err != nil {
			t.Fatal(err)
		}
		s = mustApply(t, s, op)
	}
	if got := mustApply(t, tr.StartContent, acc); got != s {
		t.Fatal("composed prefix differs from sequential application")
	}
	// Pairs of consecutive real edits, treated as concurrent, converge.
	for i := 2000; i < 2500; i++ {
		checkTP1(t, i, s, ops[i], document.FromPatch(i%(runeLen(s)+1), 0, "#"))
		s = mustApply(t, s, ops[i])
	}
}

func TestBaseIndex(t *testing.T) {
	// S = "hello world"; op: keep "hello", insert ", dear", delete " world" → "hello, dear"
	op := document.Op{{Retain: 5}, {Insert: ", dear"}, {Delete: 6}}
	for _, tt := range []struct{ pos, want int }{
		{0, 0}, {5, 5}, // before the insert
		{6, 5}, {10, 5}, // inside the inserted text: its insertion point
		{11, 11}, // the end of the result: after the deleted text
		{12, 12}, // past the end: carried over (trailing retain left out)
	} {
		if got := document.BaseIndex(tt.pos, op); got != tt.want {
			t.Errorf("document.BaseIndex(%d) = %d, want %d", tt.pos, got, tt.want)
		}
	}
	// For positions the op did not create it undoes TransformIndex.
	op2 := document.Op{{Retain: 2}, {Delete: 1}, {Retain: 3}, {Insert: "😀x"}}
	for _, pos := range []int{0, 1, 2, 4, 5, 6} {
		if got := document.BaseIndex(document.TransformIndex(pos, op2, false), op2); pos != 2 && got != pos {
			t.Errorf("document.BaseIndex(TransformIndex(%d)) = %d", pos, got)
		}
	}
}
