package protocol

import (
	"encoding/json"
	"testing"
)

func TestAppendLifecycle(t *testing.T) {
	tests := []struct {
		lc   Lifecycle
		want string
	}{
		{Lifecycle{Kind: LifecycleRename, Title: `Budget "27"`},
			`{"type":"op","doc":"d","version":7,"id":"x:1","op":[],"author":"ann","lifecycle":{"kind":"rename","title":"Budget \"27\""}}`},
		{Lifecycle{Kind: LifecycleDelete, Title: "ignored"},
			`{"type":"op","doc":"d","version":7,"id":"x:1","op":[],"author":"ann","lifecycle":{"kind":"delete"}}`},
	}
	for _, tt := range tests {
		got := string(AppendLifecycle(nil, "d", 7, "x:1", "ann", tt.lc))
		if got != tt.want {
			t.Errorf("AppendLifecycle(%+v)\n got %s\nwant %s", tt.lc, got, tt.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("not JSON: %s", got)
		}
	}
}

func TestDecodeLifecycle(t *testing.T) {
	frame := AppendLifecycle(nil, "d", 3, "x:1", "", Lifecycle{Kind: LifecycleRename, Title: "T"})
	m, err := DecodeMessage(frame)
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != TypeOp || m.Version != 3 || len(m.Op) != 0 || m.Lifecycle == nil || *m.Lifecycle != (Lifecycle{Kind: LifecycleRename, Title: "T"}) {
		t.Fatalf("decoded %+v", m)
	}
}
