package hub_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/protocol"
)

func TestAckAndBroadcast(t *testing.T) {
	t.Parallel()
	s := startServer(t, hub.Config{})
	a, b := dial(t, s.URL), dial(t, s.URL)
	if snap := a.open("notes"); snap.Version != 0 || snap.Text != "" {
		t.Fatalf("new document snapshot = %+v, want version 0 and empty text", snap)
	}
	b.open("notes")
	a.send(`{"type":"op","doc":"notes","version":0,"id":"k3f9:1","op":["Hello"]}`)
	if ack := a.expect("ack"); ack.ID != "k3f9:1" || ack.Version != 0 || ack.Doc != "notes" {
		t.Fatalf("ack = %+v", ack)
	}
	op := b.expect("op")
	if op.Version != 0 || op.ID != "k3f9:1" || op.Author != "k3f9" || len(op.Op) != 1 || op.Op[0].Insert != "Hello" {
		t.Fatalf("broadcast = %+v", op)
	}
	b.send(`{"type":"op","doc":"notes","version":1,"id":"z81q:4","op":[5," world"]}`)
	b.expect("ack")
	if got := a.expect("op"); got.Version != 1 || got.ID != "z81q:4" {
		t.Fatalf("a got %+v", got)
	}
	if snap := dial(t, s.URL).open("notes"); snap.Text != "Hello world" || snap.Version != 2 {
		t.Fatalf("fresh reader sees %+v", snap)
	}
}

// TestStaleOpTransformed: two clients edit version 0 concurrently; the one
// sequenced later is transformed and its insert goes first at the tie.
func TestStaleOpTransformed(t *testing.T) {
	t.Parallel()
	s := startServer(t, hub.Config{})
	a, b := dial(t, s.URL), dial(t, s.URL)
	a.open("d")
	b.open("d")
	a.send(`{"type":"op","doc":"d","version":0,"id":"a:1","op":["abc"]}`)
	a.expect("ack")
	b.send(`{"type":"op","doc":"d","version":0,"id":"b:1","op":["XY"]}`)
	b.expect("op") // a's op, sent before b's ack
	if ack := b.expect("ack"); ack.Version != 1 {
		t.Fatalf("b's stale op acked at %d, want 1", ack.Version)
	}
	got := a.expect("op")
	if got.Version != 1 || len(got.Op) != 1 || got.Op[0].Insert != "XY" {
		t.Fatalf("a received %+v, want XY inserted at 0 (tie: later op first)", got)
	}
	if snap := dial(t, s.URL).open("d"); snap.Text != "XYabc" {
		t.Fatalf("text = %q, want XYabc", snap.Text)
	}
}

func TestDuplicateOpAckedOnNewConnection(t *testing.T) {
	t.Parallel()
	s := startServer(t, hub.Config{})
	a := dial(t, s.URL)
	a.open("d")
	a.send(`{"type":"op","doc":"d","version":0,"id":"c:1","op":["x"]}`)
	a.expect("ack")
	a.send(`{"type":"op","doc":"d","version":1,"id":"c:2","op":[1,"y"]}`)
	a.expect("ack")
	// Same connection, then a new one: both get the original version back.
	a.send(`{"type":"op","doc":"d","version":0,"id":"c:1","op":["x"]}`)
	if ack := a.expect("ack"); ack.Version != 0 {
		t.Fatalf("resend acked at %d, want 0", ack.Version)
	}
	c := dial(t, s.URL)
	c.send(`{"type":"open","doc":"d","version":0}`)
	c.expect("op")
	c.expect("op")
	c.expect("opened")
	c.send(`{"type":"op","doc":"d","version":0,"id":"c:2","op":["y"]}`)
	if ack := c.expect("ack"); ack.Version != 1 || ack.ID != "c:2" {
		t.Fatalf("resend on new connection = %+v, want ack version 1", ack)
	}
	if h := s.Head(t, "d"); h != 2 {
		t.Fatalf("stored version %d, want 2: a resend was applied twice", h)
	}
}

// TestDuplicateOfOldOpAckedFromLog: a resend whose base is older than the
// in-memory history is looked up in the log.
func TestDuplicateOfOldOpAckedFromLog(t *testing.T) {
	t.Parallel()
	s := startServer(t, hub.Config{HistoryLen: 2})
	a := dial(t, s.URL)
	a.open("d")
	for i, id := range []string{"c:1", "c:2", "c:3", "c:4", "c:5"} {
		a.send(`{"type":"op","doc":"d","version":` + itoa(i) + `,"id":"` + id + `","op":["x"]}`)
		a.expect("ack")
	}
	a.send(`{"type":"op","doc":"d","version":0,"id":"c:1","op":["x"]}`)
	if ack := a.expect("ack"); ack.Version != 0 {
		t.Fatalf("old resend acked at %d, want 0", ack.Version)
	}
	// A new op on that old base is transformed against the log.
	a.send(`{"type":"op","doc":"d","version":0,"id":"c:6","op":["y"]}`)
	if ack := a.expect("ack"); ack.Version != 5 {
		t.Fatalf("old-base op acked at %d, want 5", ack.Version)
	}
	if snap := dial(t, s.URL).open("d"); snap.Text != "yxxxxx" {
		t.Fatalf("text %q, want yxxxxx (the later op's insert first at the tie)", snap.Text)
	}
	// Beyond MaxCatchUp the client must reopen.
	s2 := startServer(t, hub.Config{HistoryLen: 2, MaxCatchUp: 3})
	b := dial(t, s2.URL)
	b.open("d")
	for i := 0; i < 5; i++ {
		b.send(`{"type":"op","doc":"d","version":` + itoa(i) + `,"id":"b:` + itoa(i) + `","op":["x"]}`)
		b.expect("ack")
	}
	b.send(`{"type":"op","doc":"d","version":0,"id":"b:99","op":["x"]}`)
	b.expectError(protocol.CodeBadVersion)
	b.send(`{"type":"op","doc":"d","version":2,"id":"b:100","op":[3]}`)
	b.expectError(protocol.CodeInvalidOp)
}

func TestReopenCatchUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		cfg        hub.Config
		from       int64
		wantOps    int
		wantReplay bool
	}{
		{"from memory", hub.Config{}, 2, 4, true},
		{"from log", hub.Config{HistoryLen: 2}, 1, 5, true},
		{"snapshot when too far behind", hub.Config{MaxCatchUp: 3}, 0, 0, false},
		{"snapshot for a version from the future", hub.Config{}, 99, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, tt.cfg)
			a := dial(t, s.URL)
			a.open("d")
			for i := 0; i < 6; i++ {
				a.send(`{"type":"op","doc":"d","version":` + itoa(i) + `,"id":"a:` + itoa(i) + `","op":["` + itoa(i) + `"]}`)
				a.expect("ack")
			}
			b := dial(t, s.URL)
			b.send(`{"type":"open","doc":"d","version":` + itoa(int(tt.from)) + `}`)
			if !tt.wantReplay {
				if snap := b.expect("snapshot"); snap.Version != 6 || snap.Text != "543210" {
					t.Fatalf("snapshot = %+v", snap)
				}
				return
			}
			for v := tt.from; v < 6; v++ {
				if op := b.expect("op"); op.Version != v {
					t.Fatalf("catch-up op at %d, want %d", op.Version, v)
				}
			}
			if m := b.expect("opened"); m.Version != 6 {
				t.Fatalf("opened at %d, want 6", m.Version)
			}
			// Live ops follow the catch-up with no gap.
			a.send(`{"type":"op","doc":"d","version":6,"id":"a:6","op":["z"]}`)
			if op := b.expect("op"); op.Version != 6 {
				t.Fatalf("live op at %d, want 6", op.Version)
			}
		})
	}
}

func TestOriginCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		allowed []string
		origin  string
		ok      bool
	}{
		{"no origin header (not a browser)", nil, "", true},
		{"same origin", nil, "http://HOST", true},
		{"same host, other scheme", nil, "https://HOST", false},
		{"https page behind a TLS-terminating proxy", nil, "https://HOST|https", true},
		{"http page behind a proxy that says https", nil, "http://HOST|https", false},
		{"same host, other port", nil, "http://127.0.0.1:1", false},
		{"cross origin refused by default", nil, "http://evil.example", false},
		{"allowlisted", []string{"https://app.example"}, "https://app.example", true},
		{"allowlisted, default port spelt out", []string{"https://app.example"}, "https://APP.example:443", true},
		{"allowlisted host, other scheme", []string{"https://app.example"}, "http://app.example", false},
		{"allowlisted host, other port", []string{"https://app.example"}, "https://app.example:8443", false},
		{"not on the allowlist", []string{"https://app.example"}, "https://other.example", false},
		{"not an origin", nil, "null", false},
		{"wildcard", []string{"*"}, "https://other.example", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, hub.Config{AllowedOrigins: tt.allowed})
			h := http.Header{}
			origin, proto, _ := strings.Cut(tt.origin, "|") // "|https": the proxy's X-Forwarded-Proto
			if origin != "" {
				h.Set("Origin", strings.Replace(origin, "HOST", strings.TrimPrefix(s.URL, "ws://"), 1))
			}
			if proto != "" {
				h.Set("X-Forwarded-Proto", proto)
			}
			ws, resp, err := websocket.DefaultDialer.Dial(s.URL, h)
			if ws != nil {
				ws.Close()
			}
			if tt.ok != (err == nil) {
				t.Fatalf("dial with origin %q: err = %v, want ok=%v", tt.origin, err, tt.ok)
			}
			if !tt.ok && resp.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 403", resp.StatusCode)
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestMisbehaviourLogged: refused upgrades and oversized messages are
// logged at info with the client's address, for an operator to act on.
func TestMisbehaviourLogged(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	s := startServer(t, hub.Config{MaxMessageBytes: 1 << 10, Logger: zerolog.New(logs).Level(zerolog.InfoLevel)})
	if _, resp, err := websocket.DefaultDialer.Dial(s.URL, http.Header{"Origin": {"https://evil.example"}}); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin upgrade: %v", err)
	}
	c := dial(t, s.URL)
	c.send(`{"type":"open","doc":"` + strings.Repeat("x", 2000) + `"}`)
	c.expectError(protocol.CodeTooLarge)
	for _, want := range []string{`"message":"upgrade refused"`, `"origin":"https://evil.example"`, `"message":"message over the limit refused"`, `"remote":"127.0.0.1:`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no %s in the logs:\n%s", want, logs.String())
		}
	}
}

// TestReadyUntilClose: the hub's readiness check fails once shutdown has
// begun, so a load balancer stops sending it clients.
func TestReadyUntilClose(t *testing.T) {
	t.Parallel()
	s := startServer(t, hub.Config{})
	ctx := context.Background()
	if err := s.Hub.Ready(ctx); err != nil {
		t.Fatalf("ready before Close: %v", err)
	}
	if err := s.Hub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Hub.Ready(ctx); !errors.Is(err, hub.ErrClosed) {
		t.Fatalf("ready after Close: %v, want ErrClosed", err)
	}
}

// TestPingAnsweredWithPong: the heartbeat extension (§16). A ping is
// answered at once with a pong echoing its id, with or without a document
// open, and a ping that is refused leaves the connection open. A client
// that never pings (v1) never sees a pong.
func TestPingAnsweredWithPong(t *testing.T) {
	t.Parallel()
	s := startServer(t, hub.Config{})
	a := dial(t, s.URL)
	a.send(`{"type":"ping","id":"hb:1"}`)
	if m := a.expect(protocol.TypePong); m.ID != "hb:1" || m.Doc != "" {
		t.Fatalf("pong = %+v, want id hb:1 and no doc", m)
	}
	a.send(`{"type":"ping"}`)
	if m := a.expect(protocol.TypePong); m.ID != "" {
		t.Fatalf("pong to a ping without id = %+v", m)
	}
	a.send(`{"type":"ping","id":"` + strings.Repeat("k", protocol.MaxPingIDLen+1) + `"}`)
	a.expectError(protocol.CodeBadRequest)

	// With a document open, the pong comes among the document's
	// messages (maybe before the ack: the room is not involved).
	a.open("hb")
	a.send(`{"type":"op","doc":"hb","version":0,"id":"k:1","op":["x"]}`)
	a.send(`{"type":"ping","id":"hb:2"}`)
	got := map[string]string{}
	for range 2 {
		m := a.read()
		got[m.Type] = m.ID
	}
	if got[protocol.TypeAck] != "k:1" || got[protocol.TypePong] != "hb:2" {
		t.Fatalf("after op and ping got %v, want the ack of k:1 and the pong of hb:2", got)
	}

	// A v1 client: open, op, ack, and another client's op; no pong.
	b := dial(t, s.URL)
	b.open("hb")
	b.send(`{"type":"op","doc":"hb","version":1,"id":"v1:1","op":[1,"y"]}`)
	b.expect(protocol.TypeAck)
	if m := a.expect(protocol.TypeOp); m.ID != "v1:1" {
		t.Fatalf("a got %+v, want b's op", m)
	}
	a.send(`{"type":"close","doc":"hb"}`)
	b.send(`{"type":"close","doc":"hb"}`)
	b.send(`{"type":"open","doc":"nonexistent.."}`) // any answer will do: it is not a pong
	if m := b.read(); m.Type == protocol.TypePong {
		t.Fatalf("a client that never pinged got %+v", m)
	}
}
