package hub

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/collabedit/collab/protocol"
)

// TestBusMsgRoundTrip: the hand-written encoder produces JSON that
// decodes to the same message, for every kind and awkward strings.
func TestBusMsgRoundTrip(t *testing.T) {
	t.Parallel()
	msgs := []busMsg{
		{Kind: msgEvent, Doc: "d", Version: 7, ID: "k:1", Author: "ann \"the\" 😀", Op: json.RawMessage(`[3,"x\n",-2]`),
			Proc: "p1", Conn: "c9", Owner: "p0"},
		{Kind: msgForward, Doc: "a.b_c", Version: 0, ID: "k:2", Op: json.RawMessage(`["\u2028"]`), Proc: "p2", Conn: "c1"},
		{Kind: msgReply, Doc: "d", ID: "k:3", Proc: "p1", Conn: "c1", Frame: `{"type":"ack","doc":"d","version":3,"id":"k:3"}`},
		{Kind: msgPeer, Doc: "d", Proc: "p0", Peer: &protocol.Peer{Session: "s", Name: "Bø", Color: "#fff",
			Selection: &protocol.Selection{Anchor: 1, Head: 4}, Version: 9}},
		{Kind: msgLeft, Doc: "d", ID: "s", Proc: "p0"},
	}
	for _, m := range msgs {
		data := m.encode()
		if !json.Valid(data) {
			t.Fatalf("%s is not valid JSON", data)
		}
		got, err := decodeBusMsg(data)
		if err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("%s decoded to %+v, want %+v", data, got, m)
		}
	}
}

// TestOwnEventsPrefix: a process recognises exactly its own events.
func TestOwnEventsPrefix(t *testing.T) {
	t.Parallel()
	own := ownEvents("p0")
	cases := []struct {
		m    busMsg
		want bool
	}{
		{busMsg{Kind: msgEvent, Doc: "d", Owner: "p0", Proc: "p1"}, true},
		{busMsg{Kind: msgEvent, Doc: "d", Owner: "p01", Proc: "p0"}, false},
		{busMsg{Kind: msgEvent, Doc: "d", Owner: "p1", Proc: "p0"}, false},
		{busMsg{Kind: msgPeer, Doc: "d", Proc: "p0", Peer: &protocol.Peer{Session: "s"}}, false},
	}
	for _, c := range cases {
		if got := bytes.HasPrefix(c.m.encode(), own); got != c.want {
			t.Errorf("%s: own = %v, want %v", c.m.encode(), got, c.want)
		}
	}
}

func BenchmarkBusMsgEncode(b *testing.B) {
	m := busMsg{Kind: msgEvent, Doc: "doc-1", Version: 12345, ID: "abcdefgh:42", Author: "abcdefgh",
		Op: json.RawMessage(`[120,"x"]`), Proc: "p1", Conn: "17", Owner: "p0"}
	b.ReportAllocs()
	for b.Loop() {
		_ = m.encode()
	}
}
