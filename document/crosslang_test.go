package document_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/collabedit/collab/document"
)

// The cross-language test pins the JavaScript port of this package
// (static/ot.js) to the Go implementation. TestCrossLanguageCases computes
// Apply, Transform, Compose, Normalize, TransformIndex, BaseLen, IsNoop,
// FromPatch and Validate on a deterministic set of random inputs and
// compares the results with testdata/crosslang.json; node's
// static/test/ot.test.mjs checks that ot.js reproduces every result in
// that file. After a deliberate change to the Go behaviour, regenerate the
// file with
//
//	go test ./document/ -run TestCrossLanguageCases -args -write
//
// and make ot.js pass again (node --test static/test/).
var writeCrossLang = flag.Bool("write", false, "regenerate testdata/crosslang.json (TestCrossLanguageCases)")

const (
	crossLangFile  = "testdata/crosslang.json"
	crossLangCases = 10000
	crossLangSeed  = 0x5eed_c0de_2024
)

// crossFile is the layout of testdata/crosslang.json. Ops are in wire form
// (json.RawMessage), where Go's zero Component is written as 0.
type crossFile struct {
	Comment  string         `json:"comment"`
	Seed     uint64         `json:"seed"`
	Cases    []crossCase    `json:"cases"`
	Lenient  []crossLenient `json:"lenient"`
	Invalid  []crossApply   `json:"invalid"`
	Composes []crossCompose `json:"composes"`
	Patches  []crossPatch   `json:"patches"`
}

// crossCase: two valid ops a and b on doc, and c, valid on Apply(doc, a).
type crossCase struct {
	Doc     string          `json:"doc"`
	A       json.RawMessage `json:"a"`
	B       json.RawMessage `json:"b"`
	ApplyA  string          `json:"applyA"`
	ApplyB  string          `json:"applyB"`
	APrime  json.RawMessage `json:"aPrime"`  // Transform(a, b)
	BPrime  json.RawMessage `json:"bPrime"`  // Transform(a, b)
	C       json.RawMessage `json:"c"`       // applies after a
	Compose json.RawMessage `json:"compose"` // Compose(a, c)
	NormA   json.RawMessage `json:"normA"`
	NormB   json.RawMessage `json:"normB"`
	BaseLen [2]int          `json:"baseLen"` // a, b
	Noop    [2]bool         `json:"noop"`    // a, b
	// Index rows: pos, TransformIndex(pos, a, false), (pos, a, true),
	// (pos, b, false), (pos, b, true).
	Index [][5]int `json:"index"`
}

// crossLenient: ops containing zero components (wire 0), which the
// functions that do not validate (Normalize, Transform, TransformIndex,
// BaseLen, IsNoop) skip.
type crossLenient struct {
	A       json.RawMessage `json:"a"`
	B       json.RawMessage `json:"b"`
	APrime  json.RawMessage `json:"aPrime"`
	BPrime  json.RawMessage `json:"bPrime"`
	NormA   json.RawMessage `json:"normA"`
	BaseLen int             `json:"baseLen"`
	Noop    bool            `json:"noop"`
	Index   [][3]int        `json:"index"` // pos, own=false, own=true (op a)
}

// crossApply: Apply(doc, op) for ops that may not fit or be invalid.
type crossApply struct {
	Doc      string          `json:"doc"`
	Op       json.RawMessage `json:"op"`
	Out      *string         `json:"out"`                // nil if Apply failed
	Err      string          `json:"err,omitempty"`      // Apply's error message
	ValidErr string          `json:"validErr,omitempty"` // Validate's error message
}

type crossCompose struct {
	A   json.RawMessage `json:"a"`
	B   json.RawMessage `json:"b"`
	Out json.RawMessage `json:"out"` // null if Compose failed
	Err string          `json:"err,omitempty"`
}

type crossPatch struct {
	Pos int             `json:"pos"`
	Del int             `json:"del"`
	Ins string          `json:"ins"`
	Op  json.RawMessage `json:"op"`
}

// crossRand is SplitMix64: tiny, and fixed forever, so the generated file
// does not depend on the Go version's math/rand streams.
type crossRand struct{ s uint64 }

func (r *crossRand) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intN returns a number in [0, n); n > 0. The modulo bias is irrelevant here.
func (r *crossRand) intN(n int) int { return int(r.next() % uint64(n)) }

// crossPieces: ASCII, JSON-escaped characters, BMP letters, emoji (astral:
// 2 UTF-16 units), an emoji with a skin-tone modifier (2 code points), a
// flag (2 regional indicators), e + combining acute (2 code points), a lone
// combining mark, astral CJK, ZWJ sequences (3 and 5 code points), a lone
// ZWJ, U+2028 and U+FFFD.
var crossPieces = []string{
	"a", "b", "c", "x", "y", " ", " ", "\n", "\t", "\"", "\\", "<", "&", "\x01",
	"é", "中", "ß", "\u00a0", "\u2028", "\ufffd",
	"😀", "👍🏽", "🇯🇵", "e\u0301", "\u0301", "𠀋", "👩\u200d💻", "👨\u200d👩\u200d👧", "\u200d",
}

func (r *crossRand) text(maxPieces int) string {
	n := r.intN(maxPieces + 1)
	s := ""
	for range n {
		s += crossPieces[r.intN(len(crossPieces))]
	}
	return s
}

func (r *crossRand) nonEmptyText(maxPieces int) string {
	for {
		if s := r.text(maxPieces); s != "" {
			return s
		}
	}
}

// op returns a random valid op for a document of docLen code points; not
// always normal (adjacent components of one kind, deletes before inserts,
// explicit trailing retains) and often omitting the trailing retain.
func (r *crossRand) op(docLen int) document.Op {
	op := document.Op{}
	left := docLen
	for {
		switch x := r.intN(10); {
		case x == 0:
			return op
		case x <= 3 && left > 0:
			n := 1 + r.intN(min(left, 4))
			op = append(op, document.Component{Retain: n})
			left -= n
		case x <= 5 && left > 0:
			n := 1 + r.intN(min(left, 3))
			op = append(op, document.Component{Delete: n})
			left -= n
		case x <= 8:
			op = append(op, document.Component{Insert: r.nonEmptyText(3)})
		default:
			if left > 0 && r.intN(2) == 0 {
				op = append(op, document.Component{Retain: left})
			}
			return op
		}
	}
}

// patchOp returns an op that edits at position pos: an optional delete and
// insert in either order, sometimes with an explicit trailing retain.
func (r *crossRand) patchOp(pos, docLen int) document.Op {
	op := document.Op{}
	if pos > 0 {
		op = append(op, document.Component{Retain: pos})
	}
	del := 0
	if left := docLen - pos; left > 0 && r.intN(2) == 0 {
		del = 1 + r.intN(min(left, 4))
	}
	var ins string
	if del == 0 || r.intN(3) > 0 {
		ins = r.nonEmptyText(2)
	}
	d, i := document.Component{Delete: del}, document.Component{Insert: ins}
	if r.intN(2) == 0 {
		d, i = i, d
	}
	for _, c := range []document.Component{d, i} {
		if c.Delete > 0 || c.Insert != "" {
			op = append(op, c)
		}
	}
	if rest := docLen - pos - del; rest > 0 && r.intN(4) == 0 {
		op = append(op, document.Component{Retain: rest})
	}
	return op
}

// wire encodes op in wire form, including what MarshalJSON refuses: a
// zero Component is written as 0 and counts beyond 2^31-1 as they are.
func wire(op document.Op) json.RawMessage {
	b := []byte{'['}
	for i, c := range op {
		if i > 0 {
			b = append(b, ',')
		}
		switch {
		case c.Insert != "":
			b = document.AppendJSONString(b, c.Insert)
		case c.Retain > 0:
			b = strconv.AppendInt(b, int64(c.Retain), 10)
		case c.Delete > 0:
			b = strconv.AppendInt(b, -int64(c.Delete), 10)
		default:
			b = append(b, '0')
		}
	}
	return append(b, ']')
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// crossGenerate builds the whole file deterministically. It fails the test
// if Go's own results are inconsistent (non-convergence, compose mismatch),
// so a broken Go implementation is never written out as the reference.
func crossGenerate(t *testing.T) []byte {
	t.Helper()
	r := &crossRand{s: crossLangSeed}
	f := crossFile{
		Comment: "Generated by go test ./document/ -run TestCrossLanguageCases -args -write; do not edit. Checked by document/crosslang_test.go (against Go) and static/test/ot.test.mjs (against static/ot.js).",
		Seed:    crossLangSeed,
	}

	apply := func(doc string, op document.Op) string {
		out, err := document.Apply(doc, op)
		if err != nil {
			t.Fatalf("Apply(%q, %v): %v", doc, op, err)
		}
		return out
	}

	for i := range crossLangCases {
		var doc string
		if i%100 == 0 {
			doc = r.text(40) // now and then a longer document
		} else {
			doc = r.text(8)
		}
		n := runes(doc)
		var a, b document.Op
		switch r.intN(4) {
		case 0: // same position: ties and overlapping deletes
			pos := r.intN(n + 1)
			a, b = r.patchOp(pos, n), r.patchOp(pos, n)
		case 1: // nearby positions
			pos := r.intN(n + 1)
			pos2 := max(0, min(n, pos+r.intN(5)-2))
			a, b = r.patchOp(pos, n), r.patchOp(pos2, n)
		default:
			a, b = r.op(n), r.op(n)
		}
		applyA, applyB := apply(doc, a), apply(doc, b)
		ap, bp := document.Transform(a, b)
		merged := apply(applyA, bp)
		if other := apply(applyB, ap); other != merged {
			t.Fatalf("case %d: Transform does not converge: doc %q a %v b %v: %q vs %q", i, doc, a, b, merged, other)
		}
		c := r.op(runes(applyA))
		comp, err := document.Compose(a, c)
		if err != nil {
			t.Fatalf("case %d: Compose: %v", i, err)
		}
		if got, want := apply(doc, comp), apply(applyA, c); got != want {
			t.Fatalf("case %d: Compose mismatch: %q vs %q", i, got, want)
		}
		cc := crossCase{
			Doc: doc, A: wire(a), B: wire(b), ApplyA: applyA, ApplyB: applyB,
			APrime: wire(ap), BPrime: wire(bp),
			C: wire(c), Compose: wire(comp),
			NormA: wire(a.Normalize()), NormB: wire(b.Normalize()),
			BaseLen: [2]int{a.BaseLen(), b.BaseLen()},
			Noop:    [2]bool{a.IsNoop(), b.IsNoop()},
		}
		positions := []int{0, n, r.intN(n + 1)}
		switch r.intN(4) {
		case 0:
			positions = append(positions, -1-r.intN(2))
		case 1:
			positions = append(positions, n+1+r.intN(3))
		default:
			positions = append(positions, r.intN(n+1))
		}
		for _, p := range positions {
			cc.Index = append(cc.Index, [5]int{p,
				document.TransformIndex(p, a, false), document.TransformIndex(p, a, true),
				document.TransformIndex(p, b, false), document.TransformIndex(p, b, true)})
		}
		f.Cases = append(f.Cases, cc)
	}

	// Zero components (wire 0 or "") sprinkled into valid ops.
	withZeros := func(op document.Op) document.Op {
		out := document.Op{}
		for _, c := range op {
			if r.intN(3) == 0 {
				out = append(out, document.Component{})
			}
			out = append(out, c)
		}
		if r.intN(2) == 0 {
			out = append(out, document.Component{})
		}
		return out
	}
	for range 500 {
		n := r.intN(12)
		a, b := withZeros(r.op(n)), withZeros(r.op(n))
		ap, bp := document.Transform(a, b)
		l := crossLenient{
			A: wire(a), B: wire(b), APrime: wire(ap), BPrime: wire(bp),
			NormA: wire(a.Normalize()), BaseLen: a.BaseLen(), Noop: a.IsNoop(),
		}
		for _, p := range []int{0, r.intN(n + 1), n} {
			l.Index = append(l.Index, [3]int{p, document.TransformIndex(p, a, false), document.TransformIndex(p, a, true)})
		}
		f.Lenient = append(f.Lenient, l)
	}

	// Apply outcomes for ops that may overshoot the document or be invalid.
	const maxCount = 1<<31 - 1
	for i := range 1500 {
		doc := r.text(8)
		n := runes(doc)
		op := r.op(n + r.intN(4)) // up to 3 code points too long
		switch r.intN(8) {
		case 0: // an empty component somewhere
			op = append(op[:len(op):len(op)], document.Component{})
			if len(op) > 1 && r.intN(2) == 0 {
				op[0], op[len(op)-1] = op[len(op)-1], op[0]
			}
		case 1: // counts at and beyond the limit
			big := []document.Component{
				{Retain: maxCount}, {Retain: maxCount + 1}, {Delete: maxCount}, {Delete: maxCount + 1},
			}[r.intN(4)]
			op = append(document.Op{big}, op...)
			if r.intN(2) == 0 {
				op[0], op[len(op)-1] = op[len(op)-1], op[0]
			}
		case 2: // exact fit with explicit retains to the end
			op = document.Op{}
			if n > 0 {
				op = append(op, document.Component{Retain: n})
			}
			op = append(op, document.Component{Insert: "😀"})
			if i%2 == 0 {
				op = append(op, document.Component{Retain: 1})
			}
		}
		ca := crossApply{Doc: doc, Op: wire(op), ValidErr: errString(op.Validate())}
		out, err := document.Apply(doc, op)
		if err != nil {
			ca.Err = err.Error()
			if !errors.Is(err, document.ErrInvalidOp) {
				t.Fatalf("Apply error %v is not ErrInvalidOp", err)
			}
		} else {
			ca.Out = &out
		}
		f.Invalid = append(f.Invalid, ca)
	}

	// Compose with an invalid first or second op, and some valid pairs
	// where b is longer than a's output (b's tail acts on a's implicit
	// trailing retain).
	for i := range 300 {
		a, b := r.op(r.intN(6)), r.op(r.intN(10))
		switch i % 3 {
		case 0:
			a = append(a[:len(a):len(a)], document.Component{})
		case 1:
			b = append(document.Op{{Delete: maxCount + 1}}, b...)
		}
		cc := crossCompose{A: wire(a), B: wire(b), Out: json.RawMessage("null")}
		if out, err := document.Compose(a, b); err != nil {
			cc.Err = err.Error()
		} else {
			cc.Out = wire(out)
		}
		f.Composes = append(f.Composes, cc)
	}

	for range 300 {
		p := crossPatch{Pos: r.intN(6) - 1, Del: r.intN(5) - 1, Ins: r.text(2)}
		p.Op = wire(document.FromPatch(p.Pos, p.Del, p.Ins))
		f.Patches = append(f.Patches, p)
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&f); err != nil {
		t.Fatal(err)
	}
	// One case per line keeps diffs of the file readable.
	out := bytes.ReplaceAll(buf.Bytes(), []byte(`},{"doc":`), []byte("},\n{\"doc\":"))
	return out
}

func TestCrossLanguageCases(t *testing.T) {
	got := crossGenerate(t)
	path := filepath.FromSlash(crossLangFile)
	if *writeCrossLang {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes, %d cases)", path, len(got), crossLangCases)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; generate it with: go test ./document/ -run TestCrossLanguageCases -args -write", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	// Point at the first difference.
	var g, w map[string]any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s is not valid JSON: %v", path, err)
	}
	t.Errorf("%s differs from what the Go implementation computes now: %s\n"+
		"If the Go change is intended, regenerate with\n"+
		"\tgo test ./document/ -run TestCrossLanguageCases -args -write\n"+
		"and update static/ot.js until node --test static/test/ passes.", path, firstDiff("", w, g))
}

// firstDiff describes the first place where the decoded JSON values want
// (the file) and got (computed now) differ.
func firstDiff(at string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			break
		}
		for _, k := range slices.Sorted(maps.Keys(w)) {
			if d := firstDiff(at+"."+k, w[k], g[k]); d != "" {
				return d
			}
		}
		for _, k := range slices.Sorted(maps.Keys(g)) {
			if _, ok := w[k]; !ok {
				return fmt.Sprintf("%s.%s: new field", at, k)
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok {
			break
		}
		for i := range min(len(w), len(g)) {
			if d := firstDiff(fmt.Sprintf("%s[%d]", at, i), w[i], g[i]); d != "" {
				return d
			}
		}
		if len(w) != len(g) {
			return fmt.Sprintf("%s: file has %d elements, Go computes %d", at, len(w), len(g))
		}
		return ""
	}
	if reflect.DeepEqual(want, got) {
		return ""
	}
	return fmt.Sprintf("%s: file has %v, Go computes %v", at, want, got)
}
