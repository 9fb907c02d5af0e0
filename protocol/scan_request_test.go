package protocol

import (
	"reflect"
	"strings"
	"testing"
)

// clientFrames are requests as clients send them, plus variants the fast
// path must leave to encoding/json.
var clientFrames = []string{
	`{"type":"open","doc":"notes"}`,
	`{"type":"open","presence":true,"route":true,"doc":"a.b_c-1","version":7}`,
	`{"type":"open","doc":"d","presence":false}`,
	`{"type":"close","doc":"d"}`,
	`{"type":"ping","id":"hb:1"}`,
	`{"type":"ping","doc":"d"}`,
	`{"type":"op","doc":"d","version":2,"id":"k:1","op":[1,"😀\n",-1]}`,
	`{"type":"op","doc":"d","version":0,"id":"k:1","op":[]}`,
	`{"type":"op","doc":"d","version":0,"id":"k:1","op":["a\"b"]}`,
	`{"type":"op","doc":"d","version":-1,"id":"k:1","op":[]}`,
	`{"type":"op","doc":"d","version":0,"op":[]}`,
	`{"type":"op","doc":"d","version":0,"id":"","op":[]}`,
	`{"type":"op","doc":"d","id":"k","op":[]}`,
	`{"type":"op","doc":"d","version":0,"id":"k"}`,
	`{"type":"op","doc":"d","version":0,"id":"k","op":null}`,
	`{"type":"op","doc":"d","version":0,"id":"` + strings.Repeat("k", MaxOpIDLen) + `","op":[]}`,
	`{"type":"op","doc":"d","version":0,"id":"` + strings.Repeat("k", MaxOpIDLen+1) + `","op":[]}`,
	`{"type":"open","doc":"d","id":"` + strings.Repeat("k", MaxOpIDLen+1) + `"}`,
	`{"type":"open","doc":"a","doc":"b"}`,
	`{"type":"open","type":"open","doc":"d"}`,
	`{"type":"open","doc":"d","version":1,"version":2}`,
	`{"type":"open","doc":"d","route":true,"route":false}`,
	`{"type":"open","doc":"d","presence":true,"presence":true}`,
	`{"type":"op","doc":"d","version":0,"id":"k","id":"j","op":[]}`,
	`{"type":"op","doc":"d","version":0,"id":"k","op":["x"],"op":[]}`,
	`{"type":"open","doc":"a","Doc":"b"}`,
	`{"type":"op","doc":"d","version":0,"id":"k","op":[0]}`,
	`{"type":"op","doc":"d","version":1.0,"id":"k","op":[]}`,
	`{"type":"op","doc":"d","version":01,"id":"k","op":[]}`,
	`{"type":"open","doc":"d","op":[1]}`,
	`{"type":"open","doc":"a/b"}`,
	`{"type":"open","doc":"."}`,
	`{"type":"open","doc":".."}`,
	`{"type":"open","doc":"..."}`,
	`{"type":"open","doc":""}`,
	`{"type":"open","doc":"` + strings.Repeat("x", 129) + `"}`,
	`{"type":"open","doc":"d","route":"yes"}`,
	`{"type":"open","doc":"d","version":null}`,
	`{"type":"presence","doc":"d","session":"s","name":"Ann"}`,
	`{"type":"snapshot","doc":"d"}`,
	`{"Type":"open","doc":"d"}`,
	`{"type":"open", "doc":"d"}`,
	`{"type":"open","doc":"d"}x`,
	`{"doc":"d"}`,
	`{}`, `[]`, `null`, ``,
}

// TestScanRequestMatchesReference: wherever the fast path accepts a frame
// the reference decoder accepts it with the same result; ordinary frames
// take it.
func TestScanRequestMatchesReference(t *testing.T) {
	fast := 0
	for _, f := range clientFrames {
		if checkScanRequest(t, []byte(f)) {
			fast++
		}
	}
	if fast < 6 {
		t.Fatalf("only %d frames took the fast path", fast)
	}
}

func checkScanRequest(t *testing.T, data []byte) bool {
	t.Helper()
	got, ok := scanRequest(data)
	if !ok {
		return false
	}
	want, err := decodeRequestJSON(data)
	if err != nil {
		t.Fatalf("fast path accepted %q, the reference refuses it: %v", data, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\nfast %+v\nref  %+v", data, got, want)
	}
	return true
}

func FuzzScanRequest(f *testing.F) {
	for _, s := range clientFrames {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkScanRequest(t, data)
	})
}
