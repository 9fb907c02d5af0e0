package protocol

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodeRequest(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		want  Request
		code  Code // "" when valid
	}{
		{"open", `{"type":"open","doc":"notes"}`, Request{Type: "open", Doc: "notes"}, ""},
		{"open with version", `{"type":"open","doc":"a.b_c-1","version":7}`, Request{Type: "open", Doc: "a.b_c-1", Version: 7, HasVersion: true}, ""},
		{"open routed", `{"type":"open","doc":"d","route":true,"presence":true}`, Request{Type: "open", Doc: "d", Route: true, Presence: true}, ""},
		{"open asking for limits", `{"type":"open","doc":"d","limits":true}`, Request{Type: "open", Doc: "d", Limits: true}, ""},
		{"limits not a bool", `{"type":"open","doc":"d","limits":1}`, Request{}, CodeBadRequest},
		{"route mistyped", `{"type":"open","doc":"d","route":"yes"}`, Request{}, CodeBadRequest},
		{"unknown fields ignored", `{"type":"close","doc":"x","extra":{"a":[1]}}`, Request{Type: "close", Doc: "x"}, ""},
		{"op", `{"type":"op","doc":"d","version":0,"id":"k:1","op":["Hi"]}`, Request{Type: "op", Doc: "d", HasVersion: true, ID: "k:1"}, ""},
		{"empty op is a no-op", `{"type":"op","doc":"d","version":3,"id":"k:1","op":[]}`, Request{Type: "op", Doc: "d", Version: 3, HasVersion: true, ID: "k:1"}, ""},
		{"ping", `{"type":"ping","id":"hb:1"}`, Request{Type: "ping", ID: "hb:1"}, ""},
		{"ping without id", `{"type":"ping"}`, Request{Type: "ping"}, ""},
		{"ping ignores doc and extras", `{"type":"ping","doc":"a/b","t":17}`, Request{Type: "ping"}, ""},
		{"ping id of 128 bytes", `{"type":"ping","id":"` + strings.Repeat("k", 128) + `"}`, Request{Type: "ping", ID: strings.Repeat("k", 128)}, ""},
		{"ping id of 129 bytes", `{"type":"ping","id":"` + strings.Repeat("k", 129) + `"}`, Request{}, CodeBadRequest},
		{"ping mistyped id", `{"type":"ping","id":5}`, Request{}, CodeBadRequest},
		{"ping duplicate id", `{"type":"ping","id":"a","id":"b"}`, Request{}, CodeBadRequest},
		{"auth", `{"type":"auth","token":"eyJ.x.y"}`, Request{Type: "auth", Token: "eyJ.x.y"}, ""},
		{"auth ignores doc", `{"type":"auth","doc":"d","token":"t"}`, Request{Type: "auth", Token: "t"}, ""},
		{"auth without token", `{"type":"auth"}`, Request{}, CodeBadRequest},
		{"auth empty token", `{"type":"auth","token":""}`, Request{}, CodeBadRequest},
		{"auth mistyped token", `{"type":"auth","token":7}`, Request{}, CodeBadRequest},
		{"auth token too long", `{"type":"auth","token":"` + strings.Repeat("t", MaxTokenLen+1) + `"}`, Request{}, CodeTooLarge},
		{"not json", `nope`, Request{}, CodeBadRequest},
		{"empty", ``, Request{}, CodeBadRequest},
		{"array", `[]`, Request{}, CodeBadRequest},
		{"string", `"open"`, Request{}, CodeBadRequest},
		{"null", `null`, Request{}, CodeBadRequest},
		{"missing type", `{"doc":"d"}`, Request{}, CodeBadRequest},
		{"unknown type", `{"type":"snapshot","doc":"d"}`, Request{}, CodeBadRequest},
		{"mistyped doc", `{"type":"open","doc":["d"]}`, Request{}, CodeBadRequest},
		{"empty doc", `{"type":"open","doc":""}`, Request{}, CodeBadRequest},
		{"doc with slash", `{"type":"open","doc":"a/b"}`, Request{}, CodeBadRequest},
		{"doc with unicode", `{"type":"open","doc":"é"}`, Request{}, CodeBadRequest},
		{"doc dot", `{"type":"open","doc":"."}`, Request{}, CodeBadRequest},
		{"doc dot dot", `{"type":"op","doc":"..","version":0,"id":"k","op":[]}`, Request{}, CodeBadRequest},
		{"doc escaped dot dot", `{"type":"open","doc":"\u002e."}`, Request{}, CodeBadRequest},
		{"doc of three dots", `{"type":"open","doc":"..."}`, Request{Type: "open", Doc: "..."}, ""},
		{"doc of 129", `{"type":"open","doc":"` + strings.Repeat("x", 129) + `"}`, Request{}, CodeBadRequest},
		{"version float", `{"type":"open","doc":"d","version":1.0}`, Request{}, CodeBadRequest},
		{"version exponent", `{"type":"open","doc":"d","version":1e2}`, Request{}, CodeBadRequest},
		{"version negative", `{"type":"open","doc":"d","version":-1}`, Request{}, CodeBadVersion},
		{"op without id", `{"type":"op","doc":"d","version":0,"op":[]}`, Request{}, CodeBadRequest},
		{"op with empty id", `{"type":"op","doc":"d","version":0,"id":"","op":[]}`, Request{}, CodeBadRequest},
		{"op without version", `{"type":"op","doc":"d","id":"k:1","op":[]}`, Request{}, CodeBadRequest},
		{"op without op", `{"type":"op","doc":"d","version":0,"id":"k:1"}`, Request{}, CodeBadRequest},
		{"op null", `{"type":"op","doc":"d","version":0,"id":"k:1","op":null}`, Request{}, CodeInvalidOp},
		{"op zero", `{"type":"op","doc":"d","version":0,"id":"k:1","op":[0]}`, Request{}, CodeInvalidOp},
		{"op mistyped id", `{"type":"op","doc":"d","version":0,"id":5,"op":[]}`, Request{}, CodeBadRequest},
		{"op id of 128 bytes", `{"type":"op","doc":"d","version":0,"id":"` + strings.Repeat("k", 128) + `","op":[]}`, Request{Type: "op", Doc: "d", HasVersion: true, ID: strings.Repeat("k", 128)}, ""},
		{"op id of 129 bytes", `{"type":"op","doc":"d","version":0,"id":"` + strings.Repeat("k", 129) + `","op":[]}`, Request{}, CodeBadRequest},
		{"op id of 129 escaped", `{"type":"op","doc":"d","version":0,"id":"` + strings.Repeat(`\u006b`, 129) + `","op":[]}`, Request{}, CodeBadRequest},
		{"op id of 43 code points, 129 bytes", `{"type":"op","doc":"d","version":0,"id":"k` + strings.Repeat("€", 43) + `","op":[]}`, Request{}, CodeBadRequest},
		{"duplicate doc", `{"type":"open","doc":"a","doc":"b"}`, Request{}, CodeBadRequest},
		{"duplicate type", `{"type":"open","type":"close","doc":"d"}`, Request{}, CodeBadRequest},
		{"duplicate op", `{"type":"op","doc":"d","version":0,"id":"k","op":["x"],"op":[]}`, Request{}, CodeBadRequest},
		{"duplicate in other case", `{"type":"open","doc":"a","Doc":"b"}`, Request{}, CodeBadRequest},
		{"duplicate escaped", `{"type":"open","doc":"a","d\u006fc":"a"}`, Request{}, CodeBadRequest},
		{"duplicate in selection", `{"type":"presence","doc":"d","version":1,"selection":{"anchor":1,"head":2,"anchor":3}}`, Request{}, CodeBadRequest},
		{"duplicate unknown field", `{"type":"close","doc":"d","x":1,"x":1}`, Request{}, CodeBadRequest},
		{"duplicate deep in unknown field", `{"type":"close","doc":"d","x":[{"a":{"b":1,"b":2}}]}`, Request{}, CodeBadRequest},
		{"same key in sibling objects", `{"type":"close","doc":"d","x":[{"a":1},{"a":2}],"y":{"a":3}}`, Request{Type: "close", Doc: "d"}, ""},
		{"key spelled as a value", `{"type":"close","doc":"type","x":"doc"}`, Request{Type: "close", Doc: "type"}, ""},
		{"long id ignored on open", `{"type":"open","doc":"d","id":"` + strings.Repeat("k", 129) + `"}`, Request{Type: "open", Doc: "d", ID: strings.Repeat("k", 129)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeRequest([]byte(tt.frame))
			if tt.code != "" {
				var pe *Error
				if !errors.As(err, &pe) || pe.Code != tt.code || pe.Message == "" {
					t.Fatalf("err = %v, want code %s with a message", err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			got.Op, tt.want.Op = nil, nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestValidateDocID(t *testing.T) {
	for _, tt := range []struct {
		id   string
		ok   bool
		want string // in the message of a refusal
	}{
		{"notes", true, ""},
		{"team.plan-2025_v2", true, ""},
		{strings.Repeat("a", MaxDocIDLen), true, ""},
		{".a", true, ""},
		{"a.", true, ""},
		{"...", true, ""},
		{"_", true, ""},
		{"", false, "1 to 128"},
		{strings.Repeat("a", MaxDocIDLen+1), false, "1 to 128"},
		{"a/b", false, "outside"},
		{"é", false, "outside"},
		{".", false, `"." and ".."`},
		{"..", false, `"." and ".."`},
	} {
		err := ValidateDocID(tt.id)
		if tt.ok != (err == nil) || err != nil && (err.Code != CodeBadRequest || !strings.Contains(err.Message, tt.want)) {
			t.Errorf("ValidateDocID(%q) = %v, want ok %v or a bad_request saying %q", tt.id, err, tt.ok, tt.want)
		}
	}
}

// TestDuplicateKeyMessage: the refusal names the repeated field.
func TestDuplicateKeyMessage(t *testing.T) {
	for _, tc := range []struct{ frame, want string }{
		{`{"type":"op","doc":"a","doc":"b","version":0,"id":"k","op":[]}`, `duplicate field "doc"`},
		{`{"type":"open","doc":"a","DOC":"b"}`, `duplicate field "DOC" (the same as "doc"`},
		{`{"type":"open","doc":"a","x":{"\u212a":1,"k":2}}`, "duplicate field \"k\" (the same as \"\u212a\""},
		{`{"type":"presence","doc":"d","version":1,"selection":{"head":1,"head":1}}`, `duplicate field "head"`},
	} {
		_, err := DecodeRequest([]byte(tc.frame))
		var pe *Error
		if !errors.As(err, &pe) || pe.Code != CodeBadRequest || !strings.HasPrefix(pe.Message, tc.want) {
			t.Errorf("%s: err = %v, want bad_request %s", tc.frame, err, tc.want)
		}
	}
}

// TestOpIDTooLongNotEchoed: the refusal of an over-long op id names the
// limit and the document, and does not send the id back.
func TestOpIDTooLongNotEchoed(t *testing.T) {
	id := strings.Repeat("k", 900<<10)
	_, err := DecodeRequest([]byte(`{"type":"op","doc":"d","version":-1,"id":"` + id + `","op":[]}`))
	var pe *Error
	if !errors.As(err, &pe) || pe.Code != CodeBadRequest {
		t.Fatalf("err = %v, want bad_request", err)
	}
	if pe.Doc != "d" || pe.ID != "" || !strings.Contains(pe.Message, "128") || len(pe.Message) > 100 {
		t.Fatalf("error %+v: want doc \"d\", no id, and a short message naming the limit", pe)
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "tab\tnl\ncr\r", "\x00\x1f\x7f", "😀é́𠀋", "<a&b>", "\u2028\u2029", "bad\xffutf8", "\xed\xa0\x80"} {
		got := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q encodes to invalid JSON %s: %v", s, got, err)
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); utf8.ValidString(s) && back != want {
			t.Fatalf("%q round-trips to %q", s, back)
		}
	}
}

func TestEncodersProduceDecodableMessages(t *testing.T) {
	frames := [][]byte{
		AppendSnapshot(nil, "d", 3, "a\"b😀"),
		AppendOpened(nil, "d", 4),
		AppendAck(nil, "d", "k:1", 5),
		AppendError(nil, &Error{Code: CodeInvalidOp, Message: "bad", Doc: "d", ID: "k:2"}),
		AppendMoved(nil, "d", "ws://10.0.0.2:8080/ws?x=\"1\""),
	}
	want := []Message{
		{Type: "snapshot", Doc: "d", Version: 3, Text: "a\"b😀"},
		{Type: "opened", Doc: "d", Version: 4},
		{Type: "ack", Doc: "d", Version: 5, ID: "k:1"},
		{Type: "error", Doc: "d", ID: "k:2", Code: CodeInvalidOp, Message: "bad"},
		{Type: "moved", Doc: "d", URL: "ws://10.0.0.2:8080/ws?x=\"1\""},
	}
	for i, f := range frames {
		m, err := DecodeMessage(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if m.Type != want[i].Type || m.Doc != want[i].Doc || m.Version != want[i].Version || m.ID != want[i].ID ||
			m.Text != want[i].Text || m.Code != want[i].Code || m.Message != want[i].Message || m.URL != want[i].URL {
			t.Fatalf("%s decoded to %+v, want %+v", f, m, want[i])
		}
	}
}

// FuzzDecodeRequest: the decoder never panics, every failure is a protocol
// *Error with a message, and every success is a well-formed request.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"type":"open","doc":"notes"}`,
		`{"type":"op","doc":"d","version":2,"id":"k:1","op":[1,"😀",-1]}`,
		`{"type":"close","doc":"d"}`,
		`{"type":"op","doc":"d","version":-1,"id":"k:1","op":[]}`,
		`{"type":"op","doc":"d","version":0,"id":"k","op":[1.5]}`,
		`{"type":"op","doc":"d","version":0,"id":"` + strings.Repeat("k", MaxOpIDLen+1) + `","op":[]}`,
		`{"type":"op","doc":"a","doc":"b","version":0,"id":"k","op":[]}`,
		`{"type":"presence","doc":"d","version":1,"selection":{"anchor":1,"Anchor":2}}`,
		`{"type":"ping","id":"hb:1"}`,
		`{"type":"ping"}`,
		`{"type":"auth","token":"eyJ.x.y"}`,
		`[`, `{}`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeRequest(data)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Code == "" || pe.Message == "" {
				t.Fatalf("error %v is not a protocol error", err)
			}
			return
		}
		if r.Type == TypeAuth {
			if r.Doc != "" || r.Token == "" || len(r.Token) > MaxTokenLen {
				t.Fatalf("accepted malformed auth %+v", r)
			}
			return
		}
		if r.Type == TypePing {
			// A ping names no document (§16); it carries at most an id.
			if r.Doc != "" || len(r.ID) > MaxPingIDLen {
				t.Fatalf("accepted malformed ping %+v", r)
			}
			return
		}
		if ValidateDocID(r.Doc) != nil {
			t.Fatalf("accepted bad doc id %q", r.Doc)
		}
		if r.Type == TypeOp && (r.ID == "" || len(r.ID) > MaxOpIDLen || !r.HasVersion || r.Version < 0 || r.Op.Validate() != nil) {
			t.Fatalf("accepted malformed op %+v", r)
		}
	})
}

func BenchmarkDecodeRequest(b *testing.B) {
	frame := []byte(`{"type":"op","doc":"notes","version":1234,"id":"k3f9:17","op":[512,"x"]}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeRequest(frame); err != nil {
			b.Fatal(err)
		}
	}
}
