package document_test

import (
	"strings"
	"testing"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/internal/testenv"
)

// BenchmarkApplyText inserts one character into a 100,000-character Text,
// alternating positions near each other as a typist does.
func BenchmarkApplyText(b *testing.B) {
	txt := document.NewText(strings.Repeat("abcdefghij", 10000))
	ops := [2]document.Op{document.FromPatch(50000, 0, "x"), document.FromPatch(50001, 1, "")}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := txt.Apply(ops[i&1]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkApplyString is the string form, for comparison: O(n) per edit.
func BenchmarkApplyString(b *testing.B) {
	s := strings.Repeat("abcdefghij", 10000)
	op := document.FromPatch(50000, 0, "x")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := document.Apply(s, op); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTransform(b *testing.B) {
	a := document.Op{{Retain: 120}, {Insert: "hello"}}
	c := document.Op{{Retain: 80}, {Delete: 3}, {Retain: 37}, {Insert: "x"}}
	b.ReportAllocs()
	for b.Loop() {
		document.Transform(a, c)
	}
}

func BenchmarkCompose(b *testing.B) {
	a := document.Op{{Retain: 120}, {Insert: "hello"}}
	c := document.Op{{Retain: 125}, {Insert: " world"}, {Delete: 2}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := document.Compose(a, c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	for _, in := range []struct{ name, json string }{
		{"typing", `[1234,"x"]`},
		{"escapes", `[12,"line\n\"quoted\" \ud83d\ude00",-3]`},
	} {
		b.Run(in.name, func(b *testing.B) {
			data := []byte(in.json)
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var op document.Op
				if err := op.UnmarshalJSON(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	op := document.Op{{Retain: 1234}, {Insert: "hello \"world\" 😀"}, {Delete: 3}}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = op.AppendJSON(buf[:0])
	}
}

// BenchmarkReplayAutomergePaper applies all 259,778 trace edits to a fresh
// Text per iteration.
func BenchmarkReplayAutomergePaper(b *testing.B) {
	tr := testenv.Trace(b, "automerge-paper.json.gz")
	ops := tr.Ops()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		txt := document.NewText(tr.StartContent)
		for _, op := range ops {
			if err := txt.Apply(op); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(ops))*float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
