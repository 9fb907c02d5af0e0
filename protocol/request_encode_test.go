package protocol

import (
	"reflect"
	"testing"

	"github.com/collabedit/collab/document"
)

// TestAppendRequestRoundTrip: every request a client sends decodes back to
// itself, on the fast path and on the reference decoder alike.
func TestAppendRequestRoundTrip(t *testing.T) {
	reqs := []Request{
		{Type: TypeOpen, Doc: "notes"},
		{Type: TypeOpen, Doc: "a.b", Version: 7, HasVersion: true, Presence: true, Route: true, Limits: true},
		{Type: TypeClose, Doc: "d"},
		{Type: TypeOp, Doc: "d", Version: 3, HasVersion: true, ID: "k:1",
			Op: document.Op{{Retain: 2}, {Insert: "😀\"\n"}, {Delete: 1}}},
		{Type: TypePresence, Doc: "d", Version: 4, HasVersion: true,
			Peer: Peer{Session: "s", Name: "Ann", Color: "#e91e63", Selection: &Selection{Anchor: 1, Head: 3}, Version: 4}},
		{Type: TypePresence, Doc: "d", Version: 0, HasVersion: true, Peer: Peer{Session: "s"}},
		{Type: TypePing, ID: "hb:1"},
		{Type: TypePing},
		{Type: TypeAuth, Token: "eyJhbGciOiJIUzI1NiJ9.e30.sig"},
	}
	for _, r := range reqs {
		frame := AppendRequest(nil, r)
		for name, decode := range map[string]func([]byte) (Request, error){"DecodeRequest": DecodeRequest, "reference": decodeRequestJSON} {
			got, err := decode(frame)
			if err != nil {
				t.Fatalf("%s(%s): %v", name, frame, err)
			}
			if !reflect.DeepEqual(got, r) {
				t.Fatalf("%s(%s) = %+v, want %+v", name, frame, got, r)
			}
		}
	}
}
