package hub_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/hub/hubtest"
	"github.com/collabedit/collab/protocol"
)

var anyone = hub.Submitter{} // no access control: anyone may manage documents

func lifecycle(t *testing.T, s *testServer, doc, id string, life protocol.Lifecycle) (int64, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5e9)
	defer cancel()
	return s.Hub.Lifecycle(ctx, doc, id, life, anyone)
}

func wantCode(t *testing.T, err error, code protocol.Code) {
	t.Helper()
	var pe *protocol.Error
	if !errors.As(err, &pe) || pe.Code != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
}

// expectLifecycle reads the next message: a lifecycle op at version v.
func (c *wsClient) expectLifecycle(v int64, want protocol.Lifecycle) {
	c.tb.Helper()
	m := c.expect(protocol.TypeOp)
	if m.Version != v || len(m.Op) != 0 || m.Lifecycle == nil || *m.Lifecycle != want {
		c.tb.Fatalf("got %+v (lifecycle %+v), want %+v at %d", m, m.Lifecycle, want, v)
	}
}

// TestRenameDeletePurge follows one document through its lifecycle on
// one hub, as a subscriber and a newcomer see it, and then after a
// restart of the hub on the same log.
func TestRenameDeletePurge(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	s := hubtest.StartAt(t, path, hub.Config{})
	c := dial(t, s.URL)
	c.open("d")
	c.send(`{"type":"op","doc":"d","version":0,"id":"c:1","op":["hello"]}`)
	c.expect(protocol.TypeAck)

	rename := protocol.Lifecycle{Kind: protocol.LifecycleRename, Title: "Greeting"}
	if v, err := lifecycle(t, s, "d", "r:1", rename); err != nil || v != 1 {
		t.Fatalf("rename = %d, %v", v, err)
	}
	c.expectLifecycle(1, rename)
	if v, err := lifecycle(t, s, "d", "r:1", rename); err != nil || v != 1 {
		t.Fatalf("resent rename = %d, %v; want the original version", v, err)
	}
	// An op made before the rename is transformed over it as over any op.
	c.send(`{"type":"op","doc":"d","version":1,"id":"c:2","op":[5,"!"]}`)
	if m := c.expect(protocol.TypeAck); m.Version != 2 {
		t.Fatalf("ack %+v", m)
	}

	del := protocol.Lifecycle{Kind: protocol.LifecycleDelete}
	if v, err := lifecycle(t, s, "d", "x:1", del); err != nil || v != 3 {
		t.Fatalf("delete = %d, %v", v, err)
	}
	c.expectLifecycle(3, del)
	c.expectError(protocol.CodeGone)
	c.send(`{"type":"op","doc":"d","version":4,"id":"c:3","op":["late"]}`)
	c.expectError(protocol.CodeGone)

	late := dial(t, s.URL)
	late.send(`{"type":"open","doc":"d"}`)
	late.expectError(protocol.CodeGone)
	_, err := lifecycle(t, s, "d", "r:2", rename)
	wantCode(t, err, protocol.CodeGone)
	_, err = lifecycle(t, s, "never", "r:3", rename)
	wantCode(t, err, protocol.CodeGone)

	// The history stays in the log until purged.
	ctx := context.Background()
	if evs, err := s.Store.Events(ctx, "d", 0, 0); err != nil || len(evs) != 4 || evs[3].Kind != eventlog.Delete {
		t.Fatalf("log after delete: %+v, %v", evs, err)
	}
	if err := s.Hub.Purge(ctx, "d", "p:1", anyone); err != nil {
		t.Fatalf("purge: %v", err)
	}
	if err := s.Hub.Purge(ctx, "d", "p:2", anyone); err != nil {
		t.Fatalf("second purge: %v", err)
	}
	if evs, err := s.Store.Events(ctx, "d", 0, 0); err != nil || len(evs) != 1 || evs[0].Kind != eventlog.Purge {
		t.Fatalf("log after purge: %+v, %v", evs, err)
	}
	if err := s.Hub.Purge(ctx, "live", "p:3", anyone); err == nil {
		t.Fatal("purged a document that was never created")
	}

	// A hub that starts on the log finds the document gone.
	s2 := hubtest.StartAt(t, path, hub.Config{})
	fresh := dial(t, s2.URL)
	fresh.send(`{"type":"open","doc":"d"}`)
	fresh.expectError(protocol.CodeGone)
}

// TestPurgeRefusesLiveDocument: only a deleted document can be purged.
func TestPurgeRefusesLiveDocument(t *testing.T) {
	t.Parallel()
	s := startServer(t, hub.Config{})
	c := dial(t, s.URL)
	c.open("d")
	c.send(`{"type":"op","doc":"d","version":0,"id":"c:1","op":["keep"]}`)
	c.expect(protocol.TypeAck)
	if err := s.Hub.Purge(context.Background(), "d", "p:1", anyone); !errors.Is(err, hub.ErrNotDeleted) {
		t.Fatalf("purge of a live document: %v", err)
	}
}

// TestLifecycleAcrossProcesses: a rename and a delete sent to the hub
// that does not own the document are forwarded to the owner, sequenced
// there, and reach subscribers on both hubs; afterwards neither hub lets
// anyone open or edit the document.
func TestLifecycleAcrossProcesses(t *testing.T) {
	t.Parallel()
	a, b := startPair(t)
	ca, cb := dial(t, a.URL), dial(t, b.URL)
	ca.open("d")
	ca.send(`{"type":"op","doc":"d","version":0,"id":"a:1","op":["text"]}`)
	ca.expect(protocol.TypeAck) // a owns d now
	cb.open("d")

	rename := protocol.Lifecycle{Kind: protocol.LifecycleRename, Title: "Shared"}
	if v, err := lifecycle(t, b, "d", "r:1", rename); err != nil || v != 1 {
		t.Fatalf("rename through b = %d, %v", v, err)
	}
	ca.expectLifecycle(1, rename)
	cb.expectLifecycle(1, rename)

	del := protocol.Lifecycle{Kind: protocol.LifecycleDelete}
	if v, err := lifecycle(t, b, "d", "x:1", del); err != nil || v != 2 {
		t.Fatalf("delete through b = %d, %v", v, err)
	}
	for _, c := range []*wsClient{ca, cb} {
		c.expectLifecycle(2, del)
		c.expectError(protocol.CodeGone)
	}
	for _, s := range []*testServer{a, b} {
		c := dial(t, s.URL)
		c.send(`{"type":"open","doc":"d"}`)
		c.expectError(protocol.CodeGone)
	}
	cb.send(`{"type":"op","doc":"d","version":3,"id":"b:1","op":["x"]}`)
	cb.expectError(protocol.CodeGone)
}

// TestLifecycleHTTPRefusals: the lifecycle routes' answers to what they
// must refuse, each with its status and code, and nothing written.
func TestLifecycleHTTPRefusals(t *testing.T) {
	t.Parallel()
	s := startServer(t, tokens(hub.Config{}))
	base := commandServer(t, s)
	owner := hs(t, claimsFor("ann", map[string]string{"d": "owner", "new": "owner"}))
	writer := hs(t, claimsFor("bob", map[string]string{"d": "write"}))
	post(t, base, "d", owner, `{"version":0,"id":"o:1","op":["text"]}`).wantAck(t, 0)
	doc := base + "/api/v1/docs/d"
	tests := []struct {
		name, method, url, token, body string
		status                         int
		code                           protocol.Code
	}{
		{"rename by a writer", http.MethodPost, doc + "/rename", writer, `{"title":"x"}`, 403, protocol.CodeForbidden},
		{"delete by a writer", http.MethodDelete, doc, writer, ``, 403, protocol.CodeForbidden},
		{"purge by a writer", http.MethodPost, doc + "/purge", writer, ``, 403, protocol.CodeForbidden},
		{"rename without a token", http.MethodPost, doc + "/rename", "", `{"title":"x"}`, 401, protocol.CodeUnauth},
		{"rename without a title", http.MethodPost, doc + "/rename", owner, `{"name":"x"}`, 400, protocol.CodeBadRequest},
		{"rename with a body that is not JSON", http.MethodPost, doc + "/rename", owner, `title=x`, 400, protocol.CodeBadRequest},
		{"rename to a title over 200 bytes", http.MethodPost, doc + "/rename", owner, `{"title":"` + strings.Repeat("x", 201) + `"}`, 400, protocol.CodeBadRequest},
		{"purge of a live document", http.MethodPost, doc + "/purge", owner, ``, 400, protocol.CodeBadRequest},
		{"rename of a document never written", http.MethodPost, base + "/api/v1/docs/new/rename", owner, `{"title":"x"}`, 410, protocol.CodeGone},
		{"delete of a document never written", http.MethodDelete, base + "/api/v1/docs/new", owner, ``, 410, protocol.CodeGone},
		{"a bad document id", http.MethodDelete, base + "/api/v1/docs/a%20b", owner, ``, 400, protocol.CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			request(t, tt.method, tt.url, tt.token, tt.body).wantError(t, tt.status, tt.code)
		})
	}
	if h := s.Head(t, "d"); h != 1 {
		t.Fatalf("refused commands were written: head %d", h)
	}
	request(t, http.MethodDelete, doc+"?id=x:1", owner, ``).wantAck(t, 1)
	request(t, http.MethodDelete, doc+"?id=x:1", owner, ``).wantAck(t, 1) // a resend: the original version
	request(t, http.MethodPost, doc+"/rename", owner, `{"title":"late"}`).wantError(t, 410, protocol.CodeGone)
	// An op applied before the delete, resent: its original version; a
	// new one: gone.
	post(t, base, "d", owner, `{"version":0,"id":"o:1","op":["text"]}`).wantAck(t, 0)
	post(t, base, "d", owner, `{"version":2,"id":"o:2","op":["more"]}`).wantError(t, 410, protocol.CodeGone)
}
