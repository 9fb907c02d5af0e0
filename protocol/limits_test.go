package protocol

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestAppendLimits(t *testing.T) {
	l := Limits{MaxMessageBytes: 1 << 20, MaxDocLen: 4 << 20, MaxInsertBytes: 2 << 20, InsertRate: 262144, MessageRate: 1000, MessageBurst: 2000}
	frame := AppendLimits(nil, "notes", l)
	var got map[string]any
	if err := json.Unmarshal(frame, &got); err != nil {
		t.Fatalf("%s: %v", frame, err)
	}
	want := map[string]any{"type": "limits", "doc": "notes", "maxMessageBytes": 1048576.0, "maxDocLen": 4194304.0,
		"maxInsertBytes": 2097152.0, "insertRate": 262144.0, "messageRate": 1000.0, "messageBurst": 2000.0}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AppendLimits = %s\nwant %v", frame, want)
	}
	// A fractional rate is written as a JSON number, not in exponent form
	// that some decoders read as a float only.
	if f := AppendLimits(nil, "d", Limits{InsertRate: 0.5, MessageRate: 1e9}); !json.Valid(f) {
		t.Errorf("invalid JSON: %s", f)
	}
}

func TestAccessMessagesDecode(t *testing.T) {
	for frame, want := range map[string]Message{
		string(AppendAuthenticated(nil, "ann", "Ann \"A\"", 1767225600, false)): {Type: TypeAuthenticated, Sub: "ann", Name: "Ann \"A\"", Exp: 1767225600},
		string(AppendAuthenticated(nil, "bot", "", 0, false)):                   {Type: TypeAuthenticated, Sub: "bot"},
		string(AppendAuthenticated(nil, "link:k1", "Guest", 1767225600, true)):  {Type: TypeAuthenticated, Sub: "link:k1", Name: "Guest", Exp: 1767225600, Guest: true},
		string(AppendAccess(nil, "notes", "read")):                              {Type: TypeAccess, Doc: "notes", Role: "read"},
	} {
		got, err := DecodeMessage([]byte(frame))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("DecodeMessage(%s) = %+v, %v; want %+v", frame, got, err, want)
		}
	}
}
