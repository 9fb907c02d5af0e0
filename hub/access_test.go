package hub_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"github.com/collabedit/collab/auth"
	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/protocol"
)

var (
	testSecret = []byte("hub-test-secret-0123456789abcdef-0123")
	testRSA    = mustRSA()
)

func mustRSA() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

// tokens is an access-checking config: HS256 with testSecret and RS256
// with testRSA's public key (kid "rsa1").
func tokens(cfg hub.Config) hub.Config {
	cfg.Auth = &auth.Tokens{Verifier: &auth.Verifier{Keys: auth.Keys{Secret: testSecret,
		Public: map[string]crypto.PublicKey{"rsa1": &testRSA.PublicKey}}}}
	return cfg
}

// claimsFor grants docs (pattern → role) to sub for an hour.
func claimsFor(sub string, docs map[string]string) jwt.MapClaims {
	return jwt.MapClaims{"sub": sub, "name": strings.ToUpper(sub[:1]) + sub[1:], "jti": sub + "-1",
		"exp": time.Now().Add(time.Hour).Unix(), "docs": docs}
}

func signed(tb testing.TB, m jwt.SigningMethod, c jwt.MapClaims, key any) string {
	tb.Helper()
	t := jwt.NewWithClaims(m, c)
	if m == jwt.SigningMethodRS256 {
		t.Header["kid"] = "rsa1"
	}
	s, err := t.SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func hs(tb testing.TB, c jwt.MapClaims) string {
	return signed(tb, jwt.SigningMethodHS256, c, testSecret)
}

// authed dials and authenticates with token, expecting success.
func authed(tb testing.TB, url, token string) *wsClient {
	tb.Helper()
	c := dial(tb, url)
	c.send(`{"type":"auth","token":"` + token + `"}`)
	c.expect(protocol.TypeAuthenticated)
	return c
}

func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	if v == nil {
		delete(c, k)
	} else {
		c[k] = v
	}
	return c
}

// TestAccessRefusals: every way a token can be wrong is refused with the
// exact code and close code, and nothing reaches the document.
func TestAccessRefusals(t *testing.T) {
	t.Parallel()
	s := startServer(t, tokens(hub.Config{}))
	writer := func() jwt.MapClaims { return claimsFor("ann", map[string]string{"notes": "write"}) }
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, writer()).SignedString(jwt.UnsafeAllowNoneSignatureType)
	pub, _ := x509.MarshalPKIXPublicKey(&testRSA.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	tests := []struct {
		name, token string
		code        protocol.Code
		close       int
	}{
		{"malformed", "not-a-token", protocol.CodeUnauth, protocol.CloseUnauthorized},
		{"bad signature", hs(t, writer())[:40] + "x" + hs(t, writer())[41:], protocol.CodeUnauth, protocol.CloseUnauthorized},
		{"wrong key", signed(t, jwt.SigningMethodHS256, writer(), []byte(strings.Repeat("k", 40))), protocol.CodeUnauth, protocol.CloseUnauthorized},
		{"wrong rsa key", signed(t, jwt.SigningMethodRS256, writer(), mustRSA()), protocol.CodeUnauth, protocol.CloseUnauthorized},
		{"alg none", none, protocol.CodeUnauth, protocol.CloseUnauthorized},
		{"HS256 keyed with the RSA public key", signed(t, jwt.SigningMethodHS256, writer(), pubPEM), protocol.CodeUnauth, protocol.CloseUnauthorized},
		{"expired", hs(t, with(writer(), "exp", time.Now().Add(-time.Hour).Unix())), protocol.CodeUnauth, protocol.CloseUnauthorized},
		{"no exp", hs(t, with(writer(), "exp", nil)), protocol.CodeUnauth, protocol.CloseUnauthorized},
		{"not yet valid", hs(t, with(writer(), "nbf", time.Now().Add(time.Hour).Unix())), protocol.CodeUnauth, protocol.CloseUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s.URL)
			c.send(`{"type":"auth","token":"` + tc.token + `"}`)
			c.expectError(tc.code)
			if got := c.closeCode(); got != tc.close {
				t.Fatalf("close %d, want %d", got, tc.close)
			}
		})
	}
	if v := s.Head(t, "notes"); v != 0 {
		t.Fatalf("the document is at version %d after refused tokens", v)
	}
}

// TestAccessRoles: before auth nothing is served; a token opens only the
// documents it grants; a reader receives ops and presence but its ops
// are refused with forbidden and nothing is stored; the author of every
// event, and the name in presence, are the token's.
func TestAccessRoles(t *testing.T) {
	t.Parallel()
	s := startServer(t, tokens(hub.Config{}))
	anon := dial(t, s.URL)
	anon.send(`{"type":"open","doc":"notes"}`)
	if m := anon.expectError(protocol.CodeUnauth); m.Doc != "notes" {
		t.Fatalf("refusal %+v does not name the document", m)
	}
	anon.send(opFrame("notes", 0, "x:1", "sneaky"))
	anon.expectError(protocol.CodeUnauth)

	ann := authed(t, s.URL, hs(t, claimsFor("ann", map[string]string{"notes": "write", "team-*": "read"})))
	ann.send(`{"type":"open","doc":"secret"}`)
	if m := ann.expectError(protocol.CodeForbidden); m.Doc != "secret" {
		t.Fatalf("refusal %+v", m)
	}
	ann.send(`{"type":"open","doc":"notes"}`)
	if m := ann.expect(protocol.TypeAccess); m.Role != "write" || m.Doc != "notes" {
		t.Fatalf("access %+v", m)
	}
	ann.expect(protocol.TypeSnapshot)

	bob := authed(t, s.URL, signed(t, jwt.SigningMethodRS256, claimsFor("bob", map[string]string{"*": "read"}), testRSA))
	bob.send(`{"type":"open","doc":"notes","presence":true}`)
	if m := bob.expect(protocol.TypeAccess); m.Role != "read" {
		t.Fatalf("access %+v", m)
	}
	bob.expect(protocol.TypeSnapshot)
	bob.expect(protocol.TypeRoster)
	bob.send(opFrame("notes", 0, "bob:1", "vandal"))
	if m := bob.expectError(protocol.CodeForbidden); m.ID != "bob:1" {
		t.Fatalf("refusal %+v does not name the op", m)
	}
	// Ann writes, claiming to be someone else in presence: the op's author
	// and her presence name are her token's.
	ann.send(`{"type":"presence","doc":"notes","session":"s1","name":"<img src=x onerror=alert(1)>","version":0}`)
	ann.send(opFrame("notes", 0, "mallory:1", "hello"))
	expectAll(t, ann, protocol.TypeRoster, protocol.TypeAck)
	for got := 0; got < 2; {
		m := bob.read()
		switch m.Type {
		case protocol.TypePresence:
			if m.Peer.Name != "Ann" {
				t.Fatalf("presence name %q, want the token's \"Ann\"", m.Peer.Name)
			}
			got++
		case protocol.TypeOp:
			if m.Author != "ann" {
				t.Fatalf("op author %q, want ann", m.Author)
			}
			got++
		}
	}
	evs, err := s.Store.Events(context.Background(), "notes", 0, 10)
	if err != nil || len(evs) != 1 || evs[0].Author != "ann" {
		t.Fatalf("events %+v, %v: want one by ann", evs, err)
	}
}

// TestAccessDeadlineAndExpiry: a socket that never authenticates is
// closed after AuthTimeout; a token is warned about before it expires,
// the connection survives its expiry when refreshed in time, and is
// closed at the expiry of a token that was not.
func TestAccessDeadlineAndExpiry(t *testing.T) {
	t.Parallel()
	s := startServer(t, tokens(hub.Config{AuthTimeout: 300 * time.Millisecond, ExpiryWarning: 1500 * time.Millisecond}))
	silent := dial(t, s.URL)
	start := time.Now()
	if got := silent.closeCode(); got != protocol.CloseUnauthorized {
		t.Fatalf("close %d, want 4401", got)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("closed after %v; AuthTimeout is 300 ms", d)
	}

	short := func(sub string) string {
		c := claimsFor(sub, map[string]string{"*": "write"})
		c["exp"] = time.Now().Add(3 * time.Second).Unix() // 2–3 s: exp is in whole seconds
		return hs(t, c)
	}
	start = time.Now()
	ann := authed(t, s.URL, short("ann"))
	ann.send(`{"type":"open","doc":"d"}`)
	msgs := expectAll(t, ann, protocol.TypeAccess, protocol.TypeSnapshot, protocol.TypeError)
	if w := msgs[protocol.TypeError]; w.Code != protocol.CodeUnauth || !strings.Contains(w.Message, "fresh token") {
		t.Fatalf("warning %+v", w)
	}
	// A refresh for another user is refused and changes nothing.
	ann.send(`{"type":"auth","token":"` + hs(t, claimsFor("bob", map[string]string{"*": "write"})) + `"}`)
	ann.expectError(protocol.CodeUnauth)
	ann.send(`{"type":"auth","token":"` + hs(t, claimsFor("ann", map[string]string{"*": "write"})) + `"}`)
	ann.expect(protocol.TypeAuthenticated)
	time.Sleep(time.Until(start.Add(3500 * time.Millisecond))) // past the first token's expiry
	ann.send(opFrame("d", 0, "a:1", "still here"))
	ann.expect(protocol.TypeAck)

	bob := authed(t, s.URL, short("bob"))
	if got := bob.closeCode(); got != protocol.CloseUnauthorized {
		t.Fatalf("close %d at expiry, want 4401", got)
	}
}

// TestAccessBearerHeader: a client that can set headers authenticates on
// the upgrade; a refused header token gets HTTP 401 and no socket.
func TestAccessBearerHeader(t *testing.T) {
	t.Parallel()
	s := startServer(t, tokens(hub.Config{}))
	c := dialHeader(t, s.URL, http.Header{"Authorization": {"Bearer " + hs(t, claimsFor("ann", map[string]string{"d": "write"}))}})
	if m := c.expect(protocol.TypeAuthenticated); m.Sub != "ann" {
		t.Fatalf("authenticated %+v", m)
	}
	openWith(c, "d", "write")
	_, resp, err := websocket.DefaultDialer.Dial(s.URL, http.Header{"Authorization": {"Bearer nope"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad bearer: %v, %+v; want HTTP 401", err, resp)
	}
}

// TestRevocationAcrossProcesses: revoking a user on one process closes
// that user's sockets on both within a second (4403), leaves others
// alone, and the token is refused afterwards everywhere.
func TestRevocationAcrossProcesses(t *testing.T) {
	t.Parallel()
	a, b := startHubsWith(t, tokens)
	annTok := hs(t, claimsFor("ann", map[string]string{"*": "write"}))
	onA, onB := authed(t, a.URL, annTok), authed(t, b.URL, annTok)
	bob := authed(t, b.URL, hs(t, claimsFor("bob", map[string]string{"*": "write"})))
	start := time.Now()
	n, err := a.Hub.Revoke(context.Background(), auth.Revocation{Subject: "ann", Until: time.Now().Add(time.Hour)})
	if err != nil || n != 1 {
		t.Fatalf("revoke: closed %d here, %v", n, err)
	}
	for _, c := range []*wsClient{onA, onB} {
		if got := c.closeCode(); got != protocol.CloseRevoked {
			t.Fatalf("close %d, want 4403", got)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("sockets closed after %v, want within 1 s", d)
	}
	openWith(bob, "d", "write") // untouched
	for _, s := range []*testServer{a, b} {
		c := dial(t, s.URL)
		c.send(`{"type":"auth","token":"` + annTok + `"}`)
		c.expectError(protocol.CodeUnauth)
		if got := c.closeCode(); got != protocol.CloseRevoked {
			t.Fatalf("revoked token: close %d, want 4403", got)
		}
	}
	if _, err := a.Hub.Revoke(context.Background(), auth.Revocation{Until: time.Now().Add(time.Hour)}); err == nil {
		t.Fatal("a revocation naming nobody was accepted")
	}
}

// openWith opens doc on an authenticated connection, expecting role.
func openWith(c *wsClient, doc, role string) {
	c.tb.Helper()
	c.send(`{"type":"open","doc":"` + doc + `"}`)
	if m := c.expect(protocol.TypeAccess); m.Role != role || m.Doc != doc {
		c.tb.Fatalf("access %+v, want %s of %s", m, role, doc)
	}
	c.expect(protocol.TypeSnapshot)
}

// expectAll reads one message of each of types, in any order, and
// returns them by type.
func expectAll(tb testing.TB, c *wsClient, types ...string) map[string]protocol.Message {
	tb.Helper()
	got := map[string]protocol.Message{}
	for range types {
		m := c.read()
		got[m.Type] = m
	}
	for _, typ := range types {
		if _, ok := got[typ]; !ok {
			tb.Fatalf("got %v, want one of each of %v", got, types)
		}
	}
	return got
}

// TestAccessWebhook: in webhook mode the endpoint names the user and each
// document's role; its answers are cached; a slow endpoint fails closed
// with unavailable and the connection may try again.
func TestAccessWebhook(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	release := make(chan struct{}) // the slow endpoint answers at the end
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var req struct{ Token, Doc string }
		_ = json.NewDecoder(r.Body).Decode(&req)
		a := auth.WebhookAnswer{Allow: true, Subject: "u-" + req.Token, Name: "Webhook " + req.Token, CacheSeconds: 60}
		switch {
		case req.Token == "slow":
			<-release
		case req.Doc == "notes":
			a.Role = "write"
		case req.Doc == "ro":
			a.Role = "read"
		case req.Doc != "":
			a = auth.WebhookAnswer{Allow: false, Reason: "not yours"}
		}
		_ = json.NewEncoder(w).Encode(a)
	}))
	t.Cleanup(hook.Close)
	t.Cleanup(func() { close(release) }) // before hook.Close, which waits for it
	// 2 s: the fast answers must come within it under -race on a busy
	// machine; the slow one never does.
	s := startServer(t, hub.Config{Auth: &auth.Webhook{URL: hook.URL, Timeout: 2 * time.Second}})

	c := dial(t, s.URL)
	c.send(`{"type":"auth","token":"slow"}`)
	c.expectError(protocol.CodeUnavailable)
	c.send(`{"type":"auth","token":"ann"}`) // the connection stays: try again
	if m := c.expect(protocol.TypeAuthenticated); m.Sub != "u-ann" || m.Name != "Webhook ann" {
		t.Fatalf("authenticated %+v", m)
	}
	openWith(c, "notes", "write")
	openWith(c, "ro", "read")
	c.send(`{"type":"open","doc":"secret"}`)
	if m := c.expectError(protocol.CodeForbidden); !strings.Contains(m.Message, "not yours") {
		t.Fatalf("denial %+v does not carry the webhook's reason", m)
	}
	n := calls.Load()
	d := authed(t, s.URL, "ann")
	openWith(d, "notes", "write")
	if calls.Load() != n {
		t.Fatalf("%d webhook calls for answers it had cached", calls.Load()-n)
	}
}

// TestAccessGuestNames: a share link's visitors (claim "guest") each name
// themselves, shown marked as a guest's; one who names nobody shows the
// link's name; a signed-in user's presence name stays the token's.
func TestAccessGuestNames(t *testing.T) {
	t.Parallel()
	s := startServer(t, tokens(hub.Config{}))
	link := with(claimsFor("link:k1", map[string]string{"notes": "write"}), "name", "Guest")
	link["guest"] = true
	long := strings.Repeat("é", protocol.MaxNameLen)
	cases := []struct{ session, asked, shown string }{
		{"g1", "Ann", "Ann (guest)"},
		{"g2", "  ", "Guest"},
		{"g3", "Ann (guest)", "Ann (guest) (guest)"}, // no passing for a name without the mark
		{"g4", long, long[:2*(protocol.MaxNameLen-len(" (guest)"))] + " (guest)"},
	}
	watcher := authed(t, s.URL, hs(t, claimsFor("bob", map[string]string{"notes": "read"})))
	watcher.send(`{"type":"open","doc":"notes","presence":true}`)
	expectAll(t, watcher, protocol.TypeAccess, protocol.TypeSnapshot, protocol.TypeRoster)
	for _, tc := range cases {
		g := dial(t, s.URL)
		g.send(`{"type":"auth","token":"` + hs(t, link) + `"}`)
		if m := g.expect(protocol.TypeAuthenticated); !m.Guest || m.Sub != "link:k1" || m.Name != "Guest" {
			t.Fatalf("authenticated %+v, want a guest", m)
		}
		g.send(`{"type":"open","doc":"notes","presence":true}`)
		expectAll(t, g, protocol.TypeAccess, protocol.TypeSnapshot, protocol.TypeRoster)
		g.send(`{"type":"presence","doc":"notes","session":"` + tc.session + `","name":"` + tc.asked + `","version":0}`)
		for {
			m := watcher.read()
			if m.Type != protocol.TypePresence || m.Peer == nil || m.Peer.Session != tc.session {
				continue
			}
			if m.Peer.Name != tc.shown {
				t.Errorf("guest asking for %q shown as %q, want %q", tc.asked, m.Peer.Name, tc.shown)
			}
			if n := len([]rune(m.Peer.Name)); n > protocol.MaxNameLen {
				t.Errorf("name of %d characters, over %d", n, protocol.MaxNameLen)
			}
			break
		}
	}
	// Not a guest: what the client asks for is ignored (TestAccessRoles),
	// and authenticated says nothing of guests.
	ann := dial(t, s.URL)
	ann.send(`{"type":"auth","token":"` + hs(t, claimsFor("ann", map[string]string{"notes": "write"})) + `"}`)
	if m := ann.expect(protocol.TypeAuthenticated); m.Guest {
		t.Fatalf("authenticated %+v: a signed-in user called a guest", m)
	}
}

// TestAccessWarningAfterAnswer: a token that expires within the warning
// time is warned about at once, but never before authenticated, which
// clients take as the answer to the auth they sent last (a refresh's).
func TestAccessWarningAfterAnswer(t *testing.T) {
	t.Parallel()
	cfg := tokens(hub.Config{})
	cfg.ExpiryWarning = time.Hour
	s := startServer(t, cfg)
	for i := range 20 {
		c := dial(t, s.URL)
		c.send(`{"type":"auth","token":"` + hs(t, claimsFor("ann", map[string]string{"*": "write"})) + `"}`)
		first, second := c.read(), c.read()
		if first.Type != protocol.TypeAuthenticated || second.Type != protocol.TypeError || second.Code != protocol.CodeUnauth {
			t.Fatalf("connection %d: %+v then %+v, want authenticated then the warning", i, first, second)
		}
		_ = c.ws.Close()
	}
}
