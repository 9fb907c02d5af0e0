package document_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/internal/testrand"
)

type C = document.Component

func TestUnmarshalInvalid(t *testing.T) {
	cases := []struct {
		in    string
		index int // expected OpError.Index
	}{
		{``, -1},
		{`   `, -1},
		{`null`, -1},
		{`"a"`, -1},
		{`5`, -1},
		{`{}`, -1},
		{`true`, -1},
		{`[0]`, 0},
		{`[-0]`, 0},
		{`[""]`, 0},
		{`[1.5]`, 0},
		{`[1.0]`, 0},
		{`[1e2]`, 0},
		{`[1E2]`, 0},
		{`[-1e2]`, 0},
		{`[0.0]`, 0},
		{`[01]`, 0},
		{`[-]`, 0},
		{`[+1]`, 0},
		{`[{}]`, 0},
		{`[[]]`, 0},
		{`[[1]]`, 0},
		{`[1,[2]]`, 1},
		{`[true]`, 0},
		{`[false]`, 0},
		{`[null]`, 0},
		{`[1,"a",null]`, 2},
		{`[1,"a",0]`, 2},
		{`[1,]`, 1},
		{`[,1]`, 0},
		{`[1 2]`, 0},
		{`[1`, -1},
		{`[1,`, -1},
		{`[`, -1},
		{`["abc`, 0},
		{`["abc\`, 0},
		{`["a\x"]`, 0},
		{`["\u12"]`, 0},
		{`["\u12G4"]`, 0},
		{"[\"a\nb\"]", 0},
		{"[\"\x00\"]", 0},
		{`[1]x`, -1},
		{`[1] [2]`, -1},
		{`[1]]`, -1},
		{`[]]`, -1},
		{`[1]null`, -1},
		{`[2147483648]`, 0},
		{`[-2147483648]`, 0},
		{`[99999999999999999999999]`, 0},
		{"\ufeff[1]", -1}, // a byte-order mark is not JSON whitespace
	}
	for _, tc := range cases {
		var op document.Op
		err := op.UnmarshalJSON([]byte(tc.in))
		var oe *document.OpError
		if !errors.As(err, &oe) {
			t.Errorf("%q: err = %v, want *OpError", tc.in, err)
			continue
		}
		if !errors.Is(err, document.ErrInvalidOp) {
			t.Errorf("%q: errors.Is(err, ErrInvalidOp) is false", tc.in)
		}
		if oe.Index != tc.index {
			t.Errorf("%q: Index = %d, want %d (%v)", tc.in, oe.Index, tc.index, err)
		}
		if op != nil {
			t.Errorf("%q: op modified on error: %v", tc.in, op)
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "invalid op: ") || msg != strings.ToLower(msg[:1])+msg[1:] {
			t.Errorf("%q: bad message %q", tc.in, msg)
		}
		// Through encoding/json (as part of a message) it must fail too.
		var msg struct{ Op document.Op }
		if err := json.Unmarshal([]byte(`{"Op":`+tc.in+`}`), &msg); err == nil {
			t.Errorf("%q: accepted inside a message", tc.in)
		}
	}
}

func TestUnmarshalValid(t *testing.T) {
	cases := []struct {
		in   string
		want document.Op
		out  string // canonical re-encoding
	}{
		{`[]`, document.Op{}, `[]`},
		{` [ ] `, document.Op{}, `[]`},
		{`[5]`, document.Op{{Retain: 5}}, `[5]`},
		{`[-3]`, document.Op{{Delete: 3}}, `[-3]`},
		{"[ 2 ,\t\"hi\" ,\n-1\r]", document.Op{{Retain: 2}, {Insert: "hi"}, {Delete: 1}}, `[2,"hi",-1]`},
		{`[2147483647,-2147483647]`, document.Op{{Retain: 2147483647}, {Delete: 2147483647}}, `[2147483647,-2147483647]`},
		// Not normal, but valid: decoding does not normalise.
		{`[1,1,"a","b",-1,-1]`, document.Op{{Retain: 1}, {Retain: 1}, {Insert: "a"}, {Insert: "b"}, {Delete: 1}, {Delete: 1}}, `[1,1,"a","b",-1,-1]`},
		{`["😀"]`, document.Op{{Insert: "😀"}}, `["😀"]`},
		{`["\ud83d\ude00"]`, document.Op{{Insert: "😀"}}, `["😀"]`},
		{`["\uD83D\uDE00"]`, document.Op{{Insert: "😀"}}, `["😀"]`},
		{`["\ud840\udc0b"]`, document.Op{{Insert: "𠀋"}}, `["𠀋"]`},
		{`["e\u0301"]`, document.Op{{Insert: "e\u0301"}}, "[\"e\u0301\"]"},
		{`["\ud83d"]`, document.Op{{Insert: "\ufffd"}}, "[\"\ufffd\"]"},
		{`["\ude00x"]`, document.Op{{Insert: "\ufffdx"}}, "[\"\ufffdx\"]"},
		{`["\ud83d\u0041"]`, document.Op{{Insert: "\ufffdA"}}, "[\"\ufffdA\"]"},
		{`["\ud83d\ud83d\ude00"]`, document.Op{{Insert: "\ufffd😀"}}, "[\"\ufffd😀\"]"},
		{"[\"a\xffb\"]", document.Op{{Insert: "a\ufffdb"}}, "[\"a\ufffdb\"]"},
		{`["\"\\\/\b\f\n\r\t"]`, document.Op{{Insert: "\"\\/\b\f\n\r\t"}}, `["\"\\/\b\f\n\r\t"]`},
		{`["\u0001\u001f<>&"]`, document.Op{{Insert: "\x01\x1f<>&"}}, `["\u0001\u001f<>&"]`},
		{`["\u2028\u2029"]`, document.Op{{Insert: "\u2028\u2029"}}, `["\u2028\u2029"]`},
		{"[\"\u2028\"]", document.Op{{Insert: "\u2028"}}, `["\u2028"]`},
	}
	for _, tc := range cases {
		var op document.Op
		if err := json.Unmarshal([]byte(tc.in), &op); err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if op == nil || !opsEqual(op, tc.want) {
			t.Errorf("%q: got %#v, want %#v", tc.in, op, tc.want)
		}
		got, err := op.MarshalJSON()
		if err != nil || string(got) != tc.out {
			t.Errorf("%q: MarshalJSON = %s, %v; want %s", tc.in, got, err, tc.out)
		}
		if app := op.AppendJSON([]byte("x")); string(app) != "x"+tc.out {
			t.Errorf("%q: AppendJSON = %s", tc.in, app)
		}
	}
	// Code points, not bytes or UTF-16 units.
	var op document.Op
	if err := op.UnmarshalJSON([]byte(`["\ud83d\ude00"]`)); err != nil {
		t.Fatal(err)
	}
	if op.Delta() != 1 {
		t.Errorf("emoji Delta = %d, want 1", op.Delta())
	}
}

func TestMarshalInvalidAndNil(t *testing.T) {
	if b, err := json.Marshal(struct{ Op document.Op }{}); err != nil || string(b) != `{"Op":[]}` {
		t.Errorf("nil op marshals as %s, %v; want []", b, err)
	}
	for _, op := range []document.Op{{{}}, {{Retain: -1}}, {{Insert: "\xff"}}, {{Retain: 1, Insert: "a"}}} {
		if _, err := op.MarshalJSON(); !errors.Is(err, document.ErrInvalidOp) {
			t.Errorf("MarshalJSON(%#v) err = %v", op, err)
		}
	}
}

var intLit = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

// refDecode implements the wire contract on top of encoding/json. It is
// the oracle for the hand-written scanner.
func refDecode(b []byte) (document.Op, bool) {
	if !json.Valid(b) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, false
	}
	op := document.Op{}
	for _, e := range arr {
		switch e := e.(type) {
		case json.Number:
			if !intLit.MatchString(string(e)) {
				return nil, false
			}
			n, err := strconv.ParseInt(string(e), 10, 64)
			if err != nil || n == 0 || n > 1<<31-1 || n < -(1<<31-1) {
				return nil, false
			}
			if n > 0 {
				op = append(op, C{Retain: int(n)})
			} else {
				op = append(op, C{Delete: int(-n)})
			}
		case string:
			if e == "" {
				return nil, false
			}
			op = append(op, C{Insert: e})
		default:
			return nil, false
		}
	}
	return op, true
}

// checkDecode compares the scanner with the oracle and checks the
// round trip. It is shared by the property test and the fuzz target.
func checkDecode(t *testing.T, b []byte) {
	t.Helper()
	var op document.Op
	err := op.UnmarshalJSON(b)
	ref, refOK := refDecode(b)
	if (err == nil) != refOK {
		t.Fatalf("input %q: scanner err = %v, reference ok = %v", b, err, refOK)
	}
	if err != nil {
		var oe *document.OpError
		if !errors.As(err, &oe) {
			t.Fatalf("input %q: error %T is not *OpError", b, err)
		}
		return
	}
	if !opsEqual(op, ref) {
		t.Fatalf("input %q: scanner %#v, reference %#v", b, op, ref)
	}
	if err := op.Validate(); err != nil {
		t.Fatalf("input %q: decoded op invalid: %v", b, err)
	}
	enc := op.AppendJSON(nil)
	var back document.Op
	if err := back.UnmarshalJSON(enc); err != nil || !opsEqual(back, op) {
		t.Fatalf("input %q: re-encoded %s decodes to %#v, %v", b, enc, back, err)
	}
	// Same bytes as encoding/json with HTML escaping off.
	var want bytes.Buffer
	e := json.NewEncoder(&want)
	e.SetEscapeHTML(false)
	_ = e.Encode(wireValues(op))
	if got := strings.TrimSuffix(want.String(), "\n"); got != string(enc) {
		t.Fatalf("AppendJSON %s, encoding/json %s", enc, got)
	}
}

func wireValues(op document.Op) []any {
	v := make([]any, 0, len(op))
	for _, c := range op {
		switch {
		case c.Retain > 0:
			v = append(v, c.Retain)
		case c.Delete > 0:
			v = append(v, -c.Delete)
		default:
			v = append(v, c.Insert)
		}
	}
	return v
}

// TestPropJSON round-trips random ops, and random mutations of their
// encodings through the scanner and the encoding/json oracle.
func TestPropJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(testrand.Seed(t), 3))
	junk := []string{"0", "-", "1", ".", "e", ",", "]", "[", "\"", "\\", "u", "d83d", "\\ud83d", "\\ude00", " ", "null", "{}", "\xff", "\x01"}
	for i := range 10000 {
		op := randOp(r, r.IntN(20))
		enc := op.AppendJSON(nil)
		var back document.Op
		if err := back.UnmarshalJSON(enc); err != nil {
			t.Fatalf("case %d: %s: %v", i, enc, err)
		}
		if !opsEqual(back, op) {
			t.Fatalf("case %d: round trip %#v -> %s -> %#v", i, op, enc, back)
		}
		if m, err := op.MarshalJSON(); err != nil || !bytes.Equal(m, enc) {
			t.Fatalf("case %d: MarshalJSON %s, AppendJSON %s", i, m, enc)
		}
		checkDecode(t, enc)
		// Mutate: insert junk at a random byte offset.
		p := r.IntN(len(enc) + 1)
		mut := append(append(append([]byte{}, enc[:p]...), junk[r.IntN(len(junk))]...), enc[p:]...)
		checkDecode(t, mut)
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{
		`[]`, `[1,"a",-1]`, `["\ud83d\ude00"]`, `["\ud83d"]`, `[0]`, `[1.0]`, `[1e2]`, `null`,
		`[[]]`, `[{}]`, `[true]`, `["a"`, `[1]x`, "[\"\xff\"]", `["\u2028<&>"]`, `[-2147483647]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecode(t, b)
	})
}
