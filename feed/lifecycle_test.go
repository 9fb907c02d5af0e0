package feed

import (
	"strings"
	"testing"

	"github.com/collabedit/collab/eventlog"
)

// TestLifecycleEventLine: a lifecycle event goes out as SSE event
// "lifecycle" with its kind and details; an op stays event "op" with
// neither.
func TestLifecycleEventLine(t *testing.T) {
	tests := []struct {
		ev   eventlog.Event
		want []string
		not  []string
	}{
		{eventlog.Event{Seq: 7, Doc: "d", Version: 3, OpID: "r", Op: []byte("[]"), Kind: eventlog.Rename, Meta: []byte(`{"title":"T"}`)},
			[]string{"id: 7\n", "event: lifecycle\n", `"kind":"rename"`, `"meta":{"title":"T"}`}, nil},
		{eventlog.Event{Seq: 8, Doc: "d", Version: 4, OpID: "p", Op: []byte("[]"), Kind: eventlog.Purge},
			[]string{"event: lifecycle\n", `"kind":"purge"`}, []string{`"meta"`}},
		{eventlog.Event{Seq: 9, Doc: "d", Version: 0, OpID: "o", Op: []byte(`["x"]`)},
			[]string{"event: op\n", `"op":["x"]`}, []string{`"kind"`, `"meta"`}},
	}
	for _, tt := range tests {
		b, err := appendEvent(nil, &tt.ev)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("event %d: %q lacks %q", tt.ev.Seq, b, w)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(string(b), n) {
				t.Errorf("event %d: %q has %q", tt.ev.Seq, b, n)
			}
		}
	}
}
