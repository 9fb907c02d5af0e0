package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabedit/collab/protocol"
	"github.com/collabedit/collab/servertest"
)

const testSecret = "cmd-server-test-secret-0123456789abcdef"

// secretFile writes testSecret to a file for -auth-secret-file.
func secretFile(t *testing.T) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(f, []byte(testSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// mint runs the token subcommand of the server binary.
func mint(t *testing.T, args ...string) string {
	t.Helper()
	return servertest.Token(t, testSecret, args...)
}

// authedWS connects to url and authenticates with token.
func authedWS(t *testing.T, url, token string) *websocket.Conn {
	t.Helper()
	ws := dialWS(t, url)
	send(t, ws, `{"type":"auth","token":"`+token+`"}`)
	if m, err := readMsg(t, ws); err != nil || m.Type != protocol.TypeAuthenticated {
		t.Fatalf("auth: %+v, %v", m, err)
	}
	return ws
}

func send(t *testing.T, ws *websocket.Conn, frame string) {
	t.Helper()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		t.Fatalf("send: %v", err)
	}
}

// closeCode reads until ws is closed and returns the close code.
func closeCode(t *testing.T, ws *websocket.Conn) int {
	t.Helper()
	for {
		if _, err := readMsg(t, ws); err != nil {
			if ce, ok := err.(*websocket.CloseError); ok {
				return ce.Code
			}
			t.Fatalf("closed without a close frame: %v", err)
		}
	}
}

// TestRevokeAcrossProcesses: three processes share Redis in token mode;
// revoking a user on one process's admin listener closes that user's
// sockets on every process within a second (4403), and a process started
// afterwards refuses the token too.
func TestRevokeAcrossProcesses(t *testing.T) {
	t.Parallel()
	cl := startCluster(t, 2, "-auth", "token", "-auth-secret-file", secretFile(t))
	ann := mint(t, "-sub", "ann", "-doc", "*:write")
	bob := mint(t, "-sub", "bob", "-doc", "*:write")
	var anns []*websocket.Conn
	for _, p := range cl.procs {
		anns = append(anns, authedWS(t, p.URL(), ann))
	}
	bobWS := authedWS(t, cl.procs[1].URL(), bob)
	start := time.Now()
	res, err := http.Post("http://"+cl.procs[0].AdminAddr()+"/admin/revoke", "application/json", strings.NewReader(`{"sub":"ann"}`))
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Closed int }
	_ = json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	if res.StatusCode != 200 || body.Closed != 1 {
		t.Fatalf("revoke: %d, closed %d here", res.StatusCode, body.Closed)
	}
	for i, ws := range anns {
		if got := closeCode(t, ws); got != protocol.CloseRevoked {
			t.Fatalf("process %d: close %d, want 4403", i, got)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("all of ann's sockets closed after %v, want within 1 s", d)
	}
	send(t, bobWS, `{"type":"open","doc":"d"}`)
	if m, err := readMsg(t, bobWS); err != nil || m.Type != protocol.TypeAccess {
		t.Fatalf("bob after ann's revocation: %+v, %v", m, err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+cl.procs[1].Addr()+"/api/docs", nil)
	req.Header.Set("Authorization", "Bearer "+ann)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the revoked token on the HTTP API: %v %v, want 401", res, err)
	} else {
		res.Body.Close()
	}
	late := servertest.Start(t, servertest.Options{Name: "late", Dir: cl.dir, Args: []string{"-redis-url", cl.redis.URL(),
		"-auth", "token", "-auth-secret-file", secretFile(t), "-log-level", "warn"}})
	ws := dialWS(t, late.URL())
	send(t, ws, `{"type":"auth","token":"`+ann+`"}`)
	if m, err := readMsg(t, ws); err != nil || m.Code != protocol.CodeUnauth {
		t.Fatalf("revoked token on a process started later: %+v, %v", m, err)
	}
}

// TestTokenModeHTTP: the document list shows only what a token may read;
// an owner mints share links, a read link opens the document read-only,
// a non-owner cannot mint; /metrics is on the admin listener only.
func TestTokenModeHTTP(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Args: []string{"-auth", "token", "-auth-secret-file", secretFile(t)}})
	base := "http://" + srv.Addr()
	owner := mint(t, "-sub", "ann", "-name", "Ann", "-doc", "plan:owner", "-doc", "notes:write")
	for _, doc := range []string{"plan", "notes"} {
		ws := authedWS(t, srv.URL(), owner)
		send(t, ws, `{"type":"open","doc":"`+doc+`"}`)
		readMsg(t, ws) // access
		readMsg(t, ws) // snapshot
		send(t, ws, `{"type":"op","doc":"`+doc+`","version":0,"id":"a:1","op":["hi"]}`)
		if m, err := readMsg(t, ws); err != nil || m.Type != protocol.TypeAck {
			t.Fatalf("op on %s: %+v %v", doc, m, err)
		}
	}
	get := func(path, token string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(res.Body)
		return res.StatusCode, b.String()
	}
	if code, _ := get("/api/docs", ""); code != http.StatusUnauthorized {
		t.Errorf("list without a token: %d, want 401", code)
	}
	reader := mint(t, "-sub", "bob", "-doc", "notes:read")
	if code, body := get("/api/docs", reader); code != 200 || !strings.Contains(body, `"notes"`) || strings.Contains(body, `"plan"`) {
		t.Errorf("bob's list: %d %s; want notes only", code, body)
	}
	if code, _ := get("/metrics", ""); code != http.StatusNotFound {
		t.Errorf("/metrics on the public listener: %d, want 404", code)
	}
	if m := srv.Metrics(t); m["collab_ops_applied_total"] != 2 {
		t.Errorf("admin /metrics: ops applied %v, want 2", m["collab_ops_applied_total"])
	}

	link := func(token, body string) (int, map[string]string) {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/docs/plan/links", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]string
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}
	if code, _ := link(reader, `{"role":"read","expiresIn":"1h"}`); code != http.StatusForbidden {
		t.Errorf("a reader minted a link: %d", code)
	}
	if code, _ := link(owner, `{"role":"owner","expiresIn":"1h"}`); code != http.StatusBadRequest {
		t.Errorf("an owner link: %d, want 400", code)
	}
	code, out := link(owner, `{"role":"read","expiresIn":"1h"}`)
	if code != 200 || !strings.HasPrefix(out["url"], "/d/plan#token=") {
		t.Fatalf("share link: %d %v", code, out)
	}
	ws := authedWS(t, srv.URL(), out["token"])
	send(t, ws, `{"type":"open","doc":"plan"}`)
	if m, _ := readMsg(t, ws); m.Type != protocol.TypeAccess || m.Role != "read" {
		t.Fatalf("link open: %+v", m)
	}
	readMsg(t, ws) // snapshot
	send(t, ws, `{"type":"op","doc":"plan","version":1,"id":"g:1","op":["x"]}`)
	if m, _ := readMsg(t, ws); m.Code != protocol.CodeForbidden {
		t.Fatalf("op through a read link: %+v", m)
	}
	send(t, ws, `{"type":"open","doc":"notes"}`)
	if m, _ := readMsg(t, ws); m.Code != protocol.CodeForbidden {
		t.Fatalf("a link to plan opened notes: %+v", m)
	}
}

// TestNoneModeStaysOnLoopback: without access control the server will not
// listen where others can reach it unless told to.
func TestNoneModeStaysOnLoopback(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(servertest.Binary(t), "-addr", "0.0.0.0:0", "-data", t.TempDir(), "-admin-addr", "off").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "-auth-insecure-open") {
		t.Fatalf("none mode on 0.0.0.0: %v\n%s", err, out)
	}
	srv := servertest.Start(t, servertest.Options{Addr: "0.0.0.0:0", Args: []string{"-auth-insecure-open"}})
	if !srv.Running() {
		t.Fatal("-auth-insecure-open did not start")
	}
}

// TestTokenGuestFlag: server token -guest mints a guest's token, which
// the server says is one; without it, a token is not.
func TestTokenGuestFlag(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Args: []string{"-auth", "token", "-auth-secret-file", secretFile(t)}})
	for _, guest := range []bool{true, false} {
		args := []string{"-sub", "link:k1", "-name", "Guest", "-doc", "plan:write"}
		if guest {
			args = append(args, "-guest")
		}
		ws := dialWS(t, srv.URL())
		send(t, ws, `{"type":"auth","token":"`+mint(t, args...)+`"}`)
		if m, err := readMsg(t, ws); err != nil || m.Type != protocol.TypeAuthenticated || m.Guest != guest {
			t.Fatalf("-guest %v: %+v, %v", guest, m, err)
		}
	}
}
