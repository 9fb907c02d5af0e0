package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDuplicateKey(t *testing.T) {
	tests := []struct {
		name string
		text string
		dup  bool
	}{
		{"flat, distinct", `{"a":1,"b":2}`, false},
		{"flat, repeated", `{"a":1,"b":2,"a":3}`, true},
		{"case", `{"name":1,"NAME":2}`, true},
		{"kelvin sign folds to k", `{"k":1,"\u212a":2}`, true},
		{"long s folds to s", `{"s":1,"ſ":2}`, true},
		{"escaped", `{"a\"b":1,"a\u0022b":2}`, true},
		{"different after unescaping", `{"a\\b":1,"a\\\\b":2}`, false},
		{"empty names", `{"":1,"":2}`, true},
		{"whitespace", " { \"a\" : 1 ,\n\t\"a\" : [ ] } ", true},
		{"nested object", `{"a":{"b":1,"b":2}}`, true},
		{"object in array", `[1,{"x":[{"y":1,"y":1}]}]`, true},
		{"siblings", `{"a":{"b":1},"c":{"b":1},"d":[{"b":1},{"b":2}]}`, false},
		{"inner name as outer name", `{"a":{"a":{"a":1}}}`, false},
		{"outer name after an inner one", `{"a":{"b":1},"b":2}`, false},
		{"equal strings in an array", `{"a":["x","x","x"],"b":["y", "y"]}`, false},
		{"name after a nested object", `{"a":{"x":1},"b":[1,2],"a":3}`, true},
		{"values equal to names", `{"a":"a","b":"a","c":["a","a"]}`, false},
		{"huge number", `{"a":1e400,"a":2}`, true},
		{"scalars", `"a"`, false},
		{"empty containers", `{"a":{},"b":[],"c":[[],{}]}`, false},
		{"after an empty object", `[{},"a",{"a":1,"b":{},"a":2}]`, true},
		{"invalid UTF-8 reads as U+FFFD", "{\"\xff\":1,\"\ufffd\":2}", true},
		{"unpaired surrogate reads as U+FFFD", `{"\ud800":1,"\ufffd":2}`, true},
		{"many names, distinct", manyNames(40, ""), false},
		{"many names, last repeats the first", manyNames(40, `,"N0":1`), true},
		{"many names, repeat past the map switch", manyNames(40, `,"n39":1`), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !json.Valid([]byte(tt.text)) {
				t.Fatalf("test text %s is not valid JSON", tt.text)
			}
			err := duplicateKey([]byte(tt.text))
			if oracle := hasDuplicateKey(t, []byte(tt.text)); oracle != tt.dup {
				t.Fatalf("the oracle says duplicate %v for %s", oracle, tt.text)
			}
			if got := err != nil; got != tt.dup {
				t.Fatalf("duplicateKey(%s) = %v, want duplicate %v", tt.text, err, tt.dup)
			}
			if err != nil && (err.Code != CodeBadRequest || !strings.HasPrefix(err.Message, "duplicate field ")) {
				t.Fatalf("error %+v: want bad_request naming the field", err)
			}
		})
	}
}

// manyNames is an object of n distinct names n0, n1, … then extra.
func manyNames(n int, extra string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"n%d":{"n%d":%d}`, i, i, i)
	}
	return b.String() + extra + "}"
}

// hasDuplicateKey is the oracle: a json.Decoder.Token walk that compares
// every pair of names of an object with strings.EqualFold.
func hasDuplicateKey(tb testing.TB, data []byte) bool {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type object struct {
		names    []string
		wantName bool
	}
	var open []*object // nil for an array
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *object
		if len(open) > 0 {
			top = open[len(open)-1]
		}
		if name, ok := tok.(string); ok && top != nil && top.wantName {
			for _, n := range top.names {
				if strings.EqualFold(n, name) {
					return true
				}
			}
			top.names, top.wantName = append(top.names, name), false
			continue
		}
		if top != nil {
			top.wantName = true // tok starts a member's value
		}
		switch tok {
		case json.Delim('{'):
			open = append(open, &object{wantName: true})
		case json.Delim('['):
			open = append(open, nil)
		case json.Delim('}'), json.Delim(']'):
			open = open[:len(open)-1]
		}
	}
}

// FuzzDuplicateKey checks duplicateKey two ways. It builds a JSON text
// from the fuzzer's bytes, knowing as it goes whether some object repeats
// a name (ignoring case, after unescaping), and checks duplicateKey finds
// exactly that: the names come from a small pool, so collisions are
// common, and are also used as string values, so telling names from
// values matters. And where the bytes themselves are valid JSON, it
// checks duplicateKey agrees with the Token-walk oracle on them.
func FuzzDuplicateKey(f *testing.F) {
	for _, s := range []string{"", "\x00\x01\x02", "\x00\x05\x00\x01\x00\x01", "\x00\x03\x04\x07\x00\x08\x02\x01\x00\x09",
		`{"a":1,"A":[{"b":"a","c":{}}]}`, `[{},{"\u0061":1," a":2}]`, manyNames(20, `,"N3":1`), "{\"\xff\":1,\"\xfe\":2}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &jsonGen{in: data}
		text := g.value(nil, 0)
		if !json.Valid(text) {
			t.Fatalf("generated invalid JSON %s", text)
		}
		if err := duplicateKey(text); (err != nil) != g.dup {
			t.Fatalf("duplicateKey(%s) = %v, want duplicate %v", text, err, g.dup)
		}
		if json.Valid(data) {
			if err, want := duplicateKey(data), hasDuplicateKey(t, data); (err != nil) != want {
				t.Fatalf("duplicateKey(%q) = %v, the oracle says duplicate %v", data, err, want)
			}
		}
	})
}

// jsonGen writes a JSON value chosen by the bytes of in (zero once they
// run out) and records whether an object got a repeated name.
type jsonGen struct {
	in  []byte
	dup bool
}

// genNames collide ignoring case in several ways: ASCII case, the Kelvin
// sign and long s (which fold to k and s), and é in both cases.
var genNames = []string{"doc", "Doc", "DOC", "k", "K", "\u212a", "s", "ſ", "é", "É", "", "a b", `q"`, "type"}

func (g *jsonGen) next() int {
	if len(g.in) == 0 {
		return 0
	}
	c := g.in[0]
	g.in = g.in[1:]
	return int(c)
}

func (g *jsonGen) value(dst []byte, depth int) []byte {
	dst = g.space(dst)
	switch c := g.next(); {
	case c%4 == 0 && depth < 5:
		dst = g.object(dst, depth)
	case c%4 == 1 && depth < 5:
		dst = append(dst, '[')
		for i := range g.next() % 5 {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = g.value(dst, depth+1)
		}
		dst = append(g.space(dst), ']')
	case c%4 == 2:
		dst = g.str(dst, genNames[g.next()%len(genNames)])
	default:
		dst = append(dst, []string{"0", "-1.5e400", "true", "null"}[g.next()%4]...)
	}
	return g.space(dst)
}

func (g *jsonGen) object(dst []byte, depth int) []byte {
	dst = append(dst, '{')
	var names []string
	for i := range g.next() % 5 {
		if i > 0 {
			dst = append(dst, ',')
		}
		name := genNames[g.next()%len(genNames)]
		for _, n := range names {
			g.dup = g.dup || strings.EqualFold(n, name)
		}
		names = append(names, name)
		dst = g.str(g.space(dst), name)
		dst = append(g.space(dst), ':')
		dst = g.value(dst, depth+1)
	}
	return append(g.space(dst), '}')
}

// str writes s as a JSON string, escaping some of its runes as \uXXXX
// when the next byte says so (genNames are all in the BMP).
func (g *jsonGen) str(dst []byte, s string) []byte {
	dst = append(dst, '"')
	escape := g.next()
	for i, r := range s {
		switch {
		case r == '"' || escape&(1<<(i%8)) != 0:
			dst = fmt.Appendf(dst, `\u%04x`, r)
		default:
			dst = utf8.AppendRune(dst, r)
		}
	}
	return append(dst, '"')
}

func (g *jsonGen) space(dst []byte) []byte {
	return append(dst, []string{"", "", "", " ", "\n\t"}[g.next()%5]...)
}

// BenchmarkDuplicateKey is the check's cost on the reference path, for a
// presence frame (which always takes that path), next to the whole decode.
func BenchmarkDuplicateKey(b *testing.B) {
	frame := []byte(`{"type":"presence","doc":"notes","version":1234,"session":"k3f9","name":"Ann","color":"#d81b60","selection":{"anchor":5,"head":12}}`)
	b.Run("check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := duplicateKey(frame); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeRequest(frame); err != nil {
				b.Fatal(err)
			}
		}
	})
}
