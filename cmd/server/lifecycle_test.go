package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/protocol"
)

// call sends an HTTP request to a server process and returns the status
// and body.
func call(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// expectMsg reads messages until one of type typ (a lifecycle op, an
// error), failing on anything else but presence.
func expectMsg(t *testing.T, ws *websocket.Conn, typ string) protocol.Message {
	t.Helper()
	for {
		m, err := readMsg(t, ws)
		if err != nil {
			t.Fatalf("waiting for %s: %v", typ, err)
		}
		if m.Type == typ {
			return m
		}
		if m.Type != protocol.TypeOpened && m.Type != protocol.TypeSnapshot {
			t.Fatalf("got %+v, want %s", m, typ)
		}
	}
}

// listed reports whether a process's document list (its own read
// models) holds doc, with which title.
func listed(t *testing.T, addr, doc string) (bool, string) {
	t.Helper()
	status, body := call(t, http.MethodGet, "http://"+addr+"/api/v1/docs", "")
	if status != http.StatusOK {
		t.Fatalf("list: %d %s", status, body)
	}
	var page struct {
		Docs []struct{ ID, Title string }
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatal(err)
	}
	for _, d := range page.Docs {
		if d.ID == doc {
			return true, d.Title
		}
	}
	return false, ""
}

// TestLifecycleAcrossProcesses: two server processes on one log and one
// Redis. A rename and a delete sent over HTTP to the process that does not
// sequence the document reach the clients of both; afterwards neither
// process opens it, both lists (each process's own read models) drop it,
// its history stays readable on both until a purge through the other
// process, after which both answer 410.
func TestLifecycleAcrossProcesses(t *testing.T) {
	t.Parallel()
	cl := startCluster(t, 2)
	a, b := cl.procs[0], cl.procs[1]
	wa, wb := dialWS(t, a.URL()), dialWS(t, b.URL())
	send := func(ws *websocket.Conn, frame string) {
		t.Helper()
		if err := ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
			t.Fatal(err)
		}
	}
	send(wa, `{"type":"open","doc":"memo"}`)
	expectMsg(t, wa, protocol.TypeSnapshot)
	send(wa, `{"type":"op","doc":"memo","version":0,"id":"a:1","op":["draft"]}`)
	expectMsg(t, wa, protocol.TypeAck)
	send(wb, `{"type":"open","doc":"memo"}`)
	if m := expectMsg(t, wb, protocol.TypeSnapshot); m.Text != "draft" {
		t.Fatalf("b's snapshot %+v", m)
	}

	status, body := call(t, http.MethodPost, "http://"+b.Addr()+"/api/v1/docs/memo/rename", `{"title":"Memo","id":"r:1"}`)
	if status != http.StatusOK {
		t.Fatalf("rename through b: %d %s", status, body)
	}
	for _, ws := range []*websocket.Conn{wa, wb} {
		if m := expectMsg(t, ws, protocol.TypeOp); m.Version != 1 || m.Lifecycle == nil || m.Lifecycle.Title != "Memo" {
			t.Fatalf("rename seen as %+v", m)
		}
	}
	for _, p := range cl.procs {
		poll.Until(t, "renamed in the list of "+p.Name(), func() bool { ok, title := listed(t, p.Addr(), "memo"); return ok && title == "Memo" })
	}

	status, body = call(t, http.MethodDelete, "http://"+b.Addr()+"/api/v1/docs/memo?id=x:1", "")
	if status != http.StatusOK {
		t.Fatalf("delete through b: %d %s", status, body)
	}
	for _, ws := range []*websocket.Conn{wa, wb} {
		if m := expectMsg(t, ws, protocol.TypeOp); m.Version != 2 || m.Lifecycle == nil || m.Lifecycle.Kind != protocol.LifecycleDelete {
			t.Fatalf("delete seen as %+v", m)
		}
		if m := expectMsg(t, ws, protocol.TypeError); m.Code != protocol.CodeGone {
			t.Fatalf("after the delete: %+v", m)
		}
	}
	for _, p := range cl.procs {
		ws := dialWS(t, p.URL())
		send(ws, `{"type":"open","doc":"memo"}`)
		if m := expectMsg(t, ws, protocol.TypeError); m.Code != protocol.CodeGone {
			t.Fatalf("open on %s after the delete: %+v", p.Name(), m)
		}
		poll.Until(t, "deleted from the list of "+p.Name(), func() bool { ok, _ := listed(t, p.Addr(), "memo"); return !ok })
		if status, body := call(t, http.MethodGet, "http://"+p.Addr()+"/api/v1/docs/memo/text?version=1", ""); status != http.StatusOK || !strings.Contains(body, `"draft"`) {
			t.Fatalf("history on %s after the delete: %d %s", p.Name(), status, body)
		}
	}

	if status, body = call(t, http.MethodPost, "http://"+a.Addr()+"/api/v1/docs/memo/purge", ""); status != http.StatusOK {
		t.Fatalf("purge through a: %d %s", status, body)
	}
	for _, p := range cl.procs {
		if status, body := call(t, http.MethodGet, "http://"+p.Addr()+"/api/v1/docs/memo/history", ""); status != http.StatusGone {
			t.Fatalf("history on %s after the purge: %d %s", p.Name(), status, body)
		}
	}
}
