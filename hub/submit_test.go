package hub_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/protocol"
)

// commandServer serves the hub's command endpoint; with access control,
// requests are identified by their bearer token (Hub.Authenticate).
func commandServer(t *testing.T, s *testServer) string {
	t.Helper()
	mux := http.NewServeMux()
	s.Hub.CommandRoutes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// commandAnswer is the endpoint's JSON answer.
type commandAnswer struct {
	status int
	Ack    *struct{ Version int64 }
	Error  *struct{ Code, Message string }
}

func post(t *testing.T, base, doc, token, body string) commandAnswer {
	t.Helper()
	return request(t, http.MethodPost, base+"/api/v1/docs/"+doc+"/ops", token, body)
}

// request sends one command request and decodes its answer.
func request(t *testing.T, method, url, token, body string) commandAnswer {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	a := commandAnswer{status: res.StatusCode}
	if err := json.NewDecoder(res.Body).Decode(&a); err != nil {
		t.Fatalf("decode answer (%d): %v", res.StatusCode, err)
	}
	return a
}

func (a commandAnswer) wantAck(t *testing.T, v int64) {
	t.Helper()
	if a.status != 200 || a.Ack == nil || a.Ack.Version != v {
		t.Fatalf("answer %d %+v %+v, want ack at %d", a.status, a.Ack, a.Error, v)
	}
}

func (a commandAnswer) wantError(t *testing.T, status int, code protocol.Code) {
	t.Helper()
	if a.status != status || a.Error == nil || a.Error.Code != string(code) || a.Error.Message == "" {
		t.Fatalf("answer %d %+v %+v, want %d %s", a.status, a.Ack, a.Error, status, code)
	}
}

// TestCommandBesideSocket: an op submitted over HTTP while a socket
// client edits the same document is sequenced with the socket's ops: the
// socket client receives it, and a fresh open sees both edits.
func TestCommandBesideSocket(t *testing.T) {
	t.Parallel()
	s := startServer(t, hub.Config{})
	base := commandServer(t, s)
	c := dial(t, s.URL)
	c.open("d")
	c.send(`{"type":"op","doc":"d","version":0,"id":"s:1","op":["sock"]}`)
	if m := c.expect(protocol.TypeAck); m.Version != 0 {
		t.Fatalf("socket ack %+v", m)
	}
	// Based on version 0: transformed over the socket's op.
	post(t, base, "d", "", `{"version":0,"id":"h:1","op":["http "]}`).wantAck(t, 1)
	if m := c.expect(protocol.TypeOp); m.ID != "h:1" || m.Version != 1 {
		t.Fatalf("socket saw %+v, want h:1 at 1", m)
	}
	c.send(`{"type":"op","doc":"d","version":2,"id":"s:2","op":[-1]}`)
	c.expect(protocol.TypeAck)
	snap := dial(t, s.URL).open("d")
	if snap.Version != 3 || (snap.Text != "ttp sock" && snap.Text != "ock") {
		t.Fatalf("snapshot %q at %d", snap.Text, snap.Version)
	}
}

// TestCommandIdempotent: a resend of an applied op id is answered with
// its original version and applies nothing.
func TestCommandIdempotent(t *testing.T) {
	t.Parallel()
	s := startServer(t, hub.Config{})
	base := commandServer(t, s)
	post(t, base, "d", "", `{"version":0,"id":"h:1","op":["a"]}`).wantAck(t, 0)
	post(t, base, "d", "", `{"version":1,"id":"h:2","op":["b"]}`).wantAck(t, 1)
	post(t, base, "d", "", `{"version":0,"id":"h:1","op":["a"]}`).wantAck(t, 0)
	if h := s.Head(t, "d"); h != 2 {
		t.Fatalf("head %d after a resend, want 2", h)
	}
}

// TestCommandRefusals: the socket's validation and access rules, mapped
// to HTTP statuses; nothing refused is written.
func TestCommandRefusals(t *testing.T) {
	t.Parallel()
	s := startServer(t, tokens(hub.Config{MaxMessageBytes: 1 << 10}))
	base := commandServer(t, s)
	writer := hs(t, claimsFor("ann", map[string]string{"d": "write"}))
	reader := hs(t, claimsFor("bob", map[string]string{"d": "read"}))
	post(t, base, "d", reader, `{"version":0,"id":"r:1","op":["x"]}`).wantError(t, 403, protocol.CodeForbidden)
	post(t, base, "e", writer, `{"version":0,"id":"w:1","op":["x"]}`).wantError(t, 403, protocol.CodeForbidden)
	post(t, base, "d", "", `{"version":0,"id":"n:1","op":["x"]}`).wantError(t, 401, protocol.CodeUnauth)
	post(t, base, "d", writer, `{"version":0,"id":"w:1","op":[3]}`).wantError(t, 400, protocol.CodeInvalidOp)
	post(t, base, "d", writer, `{"version":0,"id":"w:1","op":[""]}`).wantError(t, 400, protocol.CodeInvalidOp)
	post(t, base, "d", writer, `{"version":7,"id":"w:1","op":["x"]}`).wantError(t, 400, protocol.CodeBadVersion)
	post(t, base, "d", writer, `{"version":0,"op":["x"]}`).wantError(t, 400, protocol.CodeBadRequest)
	post(t, base, "d", writer, `[]`).wantError(t, 400, protocol.CodeBadRequest)
	post(t, base, "d", writer, `{"version":0,"id":"w:1","op":["`+strings.Repeat("x", 2<<10)+`"]}`).wantError(t, 413, protocol.CodeTooLarge)
	if h := s.Head(t, "d"); h != 0 {
		t.Fatalf("refused ops were written: head %d", h)
	}
	post(t, base, "d", writer, `{"version":0,"id":"w:1","op":["x"]}`).wantAck(t, 0)
}
