package protocol

import (
	"reflect"
	"testing"

	"github.com/collabedit/collab/document"
)

// serverFrames are frames as the server writes them, plus variants that
// must leave the fast path.
func serverFrames() []string {
	op := document.Op{{Retain: 3}, {Insert: "a😀\"\n"}, {Delete: 2}}
	peer := Peer{Session: "s", Name: "Bø", Color: "#fff", Selection: &Selection{Anchor: 1, Head: 2}, Version: 3}
	return []string{
		string(AppendOp(nil, "d", 41, "k:1", "ann", op)),
		string(AppendOp(nil, "d", 0, "k:2", "", nil)),
		string(AppendAck(nil, "d", "k:1", 41)),
		string(AppendOpened(nil, "d", 9)),
		string(AppendSnapshot(nil, "d", 3, "plain")),
		string(AppendSnapshot(nil, "d", 3, "esc\"aped\n")),
		string(AppendError(nil, &Error{Code: CodeBadVersion, Message: "too new", Doc: "d", ID: "k"})),
		string(AppendRoster(nil, "d", []Peer{peer, {Session: "t"}})),
		string(AppendPresence(nil, "d", peer)),
		string(AppendLeft(nil, "d", "s")),
		string(AppendMoved(nil, "d", "ws://h:1/ws")),
		`{"type":"op","doc":"d","version":-3,"id":"x","op":[1]}`,
		`{"type":"op","version":1.5}`,
		`{"type":"op","version":01}`,
		`{"type":"ack","version":99999999999999999999}`,
		`{"type":"ack", "doc":"d"}`,
		`{"Type":"ack"}`,
		`{"type":"ack","extra":{"a":[1,"]"]}}`,
		`{"type":"op","op":null}`,
		`{"type":"op","op":[1.5]}`,
		`{"type":"op","op":5}`,
		`{"type":"x","doc":"\u00e9"}`,
		`{"type":"x"}trailing`,
		`{"doc":"d"}`,
		`{}`,
		"{\"type\":\"x\",\"doc\":\"\xff\"}",
	}
}

// TestScanMatchesEncodingJSON: wherever the fast path accepts a frame, it
// decodes it exactly as encoding/json does; server frames take it.
func TestScanMatchesEncodingJSON(t *testing.T) {
	fast := 0
	for _, f := range serverFrames() {
		if checkScan(t, []byte(f)) {
			fast++
		}
	}
	if fast < 10 {
		t.Fatalf("only %d frames took the fast path; the server's own frames should", fast)
	}
}

func checkScan(t *testing.T, data []byte) bool {
	t.Helper()
	got, ok := scanMessage(data)
	if !ok {
		return false
	}
	want, err := decodeMessageJSON(data)
	if err != nil {
		t.Fatalf("fast path accepted %q, encoding/json refuses it: %v", data, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\nfast %+v\njson %+v", data, got, want)
	}
	return true
}

func FuzzScanMessage(f *testing.F) {
	for _, s := range serverFrames() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkScan(t, data)
	})
}

func BenchmarkDecodeMessage(b *testing.B) {
	frame := AppendOp(nil, "doc-1", 12345, "abcdefgh:42", "abcdefgh", document.Op{{Retain: 120}, {Insert: "x"}})
	for _, c := range []struct {
		name string
		fn   func([]byte) (Message, error)
	}{{"fast", DecodeMessage}, {"encoding-json", decodeMessageJSON}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.fn(frame); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
