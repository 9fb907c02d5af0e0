package hub_test

import (
	"context"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabedit/collab/auth"
	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/protocol"
)

// dialStatus dials with header h and returns the HTTP status of a refused
// upgrade (0 when it succeeded; the socket is then closed at cleanup).
func dialStatus(tb testing.TB, url string, h http.Header) (int, *http.Response) {
	tb.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(url, h)
	if err == nil {
		tb.Cleanup(func() { _ = ws.Close() })
		return 0, resp
	}
	if resp == nil {
		tb.Fatalf("dial: %v", err)
	}
	return resp.StatusCode, resp
}

func xff(addr string) http.Header { return http.Header{"X-Forwarded-For": {addr}} }

// TestConnsPerAddrCapped: one address holds at most MaxConnsPerAddr
// sockets; one more is answered 429 with Retry-After and a body saying
// why, before the upgrade; a closed socket frees its place.
func TestConnsPerAddrCapped(t *testing.T) {
	t.Parallel()
	s := startServer(t, hub.Config{MaxConnsPerAddr: 3, LimitLoopback: true})
	conns := []*wsClient{dial(t, s.URL), dial(t, s.URL), dial(t, s.URL)}
	status, resp := dialStatus(t, s.URL, nil)
	if status != http.StatusTooManyRequests {
		t.Fatalf("4th socket: status %d, want 429", status)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "too many connections from your address (limit 3)") {
		t.Fatalf("429 without Retry-After or a clear body: %q %q", resp.Header.Get("Retry-After"), body)
	}
	if n := s.Hub.Stats().AddrRefused; n != 1 {
		t.Fatalf("AddrRefused %d, want 1", n)
	}
	_ = conns[0].ws.Close()
	poll.Until(t, "closed socket frees its place", func() bool {
		status, _ := dialStatus(t, s.URL, nil)
		return status == 0
	})
}

// TestTrustedProxyAddress: behind a trusted proxy the cap counts the
// address X-Forwarded-For names, and the authenticator receives it; from
// an untrusted peer the header is ignored, so spoofing it does not
// escape the cap.
func TestTrustedProxyAddress(t *testing.T) {
	t.Parallel()
	rec := &remoteRecorder{}
	proxied := startServer(t, hub.Config{MaxConnsPerAddr: 1, LimitLoopback: true, Auth: rec,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	for _, a := range []string{"198.51.100.1", "198.51.100.2"} {
		if st, _ := dialStatus(t, proxied.URL, http.Header{"X-Forwarded-For": {a}, "Authorization": {"Bearer x"}}); st != 0 {
			t.Fatalf("client %s: status %d", a, st)
		}
	}
	if st, _ := dialStatus(t, proxied.URL, xff("1.1.1.1, 198.51.100.1")); st != http.StatusTooManyRequests {
		t.Fatalf("second socket of 198.51.100.1: status %d, want 429", st)
	}
	if got := rec.all(); strings.Join(got, ",") != "198.51.100.1,198.51.100.2" {
		t.Fatalf("authenticator got remotes %v, want the forwarded clients", got)
	}
	if n := proxied.Hub.Stats().ForwardedClients; n != 3 {
		t.Fatalf("ForwardedClients %d, want 3", n)
	}

	direct := startServer(t, hub.Config{MaxConnsPerAddr: 1, LimitLoopback: true})
	if st, _ := dialStatus(t, direct.URL, xff("198.51.100.1")); st != 0 {
		t.Fatalf("first socket: %d", st)
	}
	if st, _ := dialStatus(t, direct.URL, xff("198.51.100.2")); st != http.StatusTooManyRequests {
		t.Fatalf("spoofed X-Forwarded-For from an untrusted peer: status %d, want 429", st)
	}
}

// remoteRecorder lets everyone write and records the remote addresses
// it authenticated.
type remoteRecorder struct {
	mu      sync.Mutex
	remotes []string
}

func (r *remoteRecorder) Authenticate(_ context.Context, _, remote string) (*auth.Identity, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.remotes = append(r.remotes, remote)
	return &auth.Identity{Subject: "u" + strconv.Itoa(len(r.remotes))}, nil
}

func (r *remoteRecorder) Authorize(context.Context, *auth.Identity, string, string, string) (auth.Role, error) {
	return auth.Write, nil
}

func (r *remoteRecorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.remotes...)
}

// pings sends n pings and returns how many were answered and how many
// refused with rate_limited.
func pings(c *wsClient, n int) (pongs, limited int) {
	c.tb.Helper()
	for i := range n {
		c.send(`{"type":"ping","id":"` + strconv.Itoa(i) + `"}`)
	}
	for range n {
		m := c.read()
		switch {
		case m.Type == protocol.TypePong:
			pongs++
		case m.Type == protocol.TypeError && m.Code == protocol.CodeRateLimited:
			if !strings.Contains(m.Message, "for this user across all its connections") {
				c.tb.Fatalf("refusal %q does not say it is the user's limit", m.Message)
			}
			limited++
		default:
			c.tb.Fatalf("got %+v", m)
		}
	}
	return pongs, limited
}

// TestUserRateAcrossConnections: a user's messages on all its
// connections share one budget; another user has its own; anonymous
// connections share their address's.
func TestUserRateAcrossConnections(t *testing.T) {
	t.Parallel()
	s := startServer(t, tokens(hub.Config{UserRate: 0.001, UserRateBurst: 8}))
	tok := hs(t, claimsFor("ann", map[string]string{"*": "write"}))
	// Auth messages count for the address: the user is not known yet.
	ann1, ann2 := authed(t, s.URL, tok), authed(t, s.URL, tok)
	if p, l := pings(ann1, 3); p != 3 || l != 0 {
		t.Fatalf("first socket: %d pongs, %d limited", p, l)
	}
	if p, l := pings(ann2, 3); p != 3 || l != 0 {
		t.Fatalf("second socket: %d pongs, %d limited", p, l)
	}
	if p, l := pings(ann1, 4); p != 2 || l != 2 {
		t.Fatalf("at the user's budget of 8: %d pongs, %d limited; want 2 and 2", p, l)
	}
	bob := authed(t, s.URL, hs(t, claimsFor("bob", map[string]string{"*": "write"})))
	if p, _ := pings(bob, 5); p != 5 {
		t.Fatalf("another user was limited: %d pongs", p)
	}
	if st := s.Hub.Stats(); st.UserRateLimited != 2 || st.RateLimited != 2 {
		t.Fatalf("UserRateLimited %d, RateLimited %d; want 2", st.UserRateLimited, st.RateLimited)
	}

	anon := startServer(t, hub.Config{UserRate: 0.001, UserRateBurst: 4, LimitLoopback: true})
	a, b := dial(t, anon.URL), dial(t, anon.URL)
	pa, _ := pings(a, 3)
	pb, lb := pings(b, 3)
	if pa+pb != 4 || lb != 2 {
		t.Fatalf("anonymous sockets of one address: %d+%d pongs, %d limited; want 4 in all", pa, pb, lb)
	}
}

// TestUserInsertRateAcrossConnections: the text a user inserts is
// bounded across its connections; the refused op is not applied.
func TestUserInsertRateAcrossConnections(t *testing.T) {
	t.Parallel()
	s := startServer(t, hub.Config{MaxMessageBytes: 2048, UserInsertRate: 1, UserInsertBurst: 2048, LimitLoopback: true})
	a, b := dial(t, s.URL), dial(t, s.URL)
	a.open("d")
	b.open("d")
	text := strings.Repeat("x", 1500)
	a.send(opFrame("d", 0, "a:1", text))
	a.expect(protocol.TypeAck)
	b.expect(protocol.TypeOp)
	b.send(opFrame("d", 1, "b:1", text))
	if e := b.expectError(protocol.CodeRateLimited); e.ID != "b:1" || !strings.Contains(e.Message, "for this user") {
		t.Fatalf("refusal %+v", e)
	}
	if h := s.Head(t, "d"); h != 1 {
		t.Fatalf("log at %d, want 1: the refused op was applied", h)
	}
	if n := s.Hub.Stats().UserInsertLimited; n != 1 {
		t.Fatalf("UserInsertLimited %d, want 1", n)
	}
}

// TestDocsCreatedPerUser: the op that would create one document more
// than the user's allowance is refused before it is sequenced; edits to
// existing documents go on, and the allowance refills with its window.
func TestDocsCreatedPerUser(t *testing.T) {
	t.Parallel()
	s := startServer(t, tokens(hub.Config{MaxDocsCreatedPerHour: 2, DocsCreatedWindow: 2 * time.Second}))
	ann := authed(t, s.URL, hs(t, claimsFor("ann", map[string]string{"*": "write"})))
	for _, doc := range []string{"d1", "d2", "d3"} {
		openWith(ann, doc, "write")
	}
	for i, doc := range []string{"d1", "d2", "d3"} {
		ann.send(opFrame(doc, 0, "a:"+strconv.Itoa(i), "hi"))
		if i < 2 {
			ann.expect(protocol.TypeAck)
		}
	}
	e := ann.expectError(protocol.CodeRateLimited)
	if e.Doc != "d3" || e.ID != "a:2" || !strings.Contains(e.Message, "documents created per") {
		t.Fatalf("refusal %+v", e)
	}
	if h := s.Head(t, "d3"); h != 0 {
		t.Fatalf("d3 at version %d: the refused op was applied", h)
	}
	ann.send(opFrame("d1", 1, "a:3", "more")) // not a creation
	ann.expect(protocol.TypeAck)
	bob := authed(t, s.URL, hs(t, claimsFor("bob", map[string]string{"*": "write"})))
	openWith(bob, "b1", "write")
	bob.send(opFrame("b1", 0, "b:1", "x"))
	bob.expect(protocol.TypeAck)
	if n := s.Hub.Stats().DocsCreatedLimited; n != 1 {
		t.Fatalf("DocsCreatedLimited %d, want 1", n)
	}
	time.Sleep(1100 * time.Millisecond) // 2 per 2 s: one more after 1 s
	ann.send(opFrame("d3", 0, "a:2", "hi"))
	if m := ann.expect(protocol.TypeAck); m.Doc != "d3" || m.Version != 0 {
		t.Fatalf("ack %+v", m)
	}
}

// TestLoopbackExemptByDefault: clients on the host itself (tests, load
// tools, a same-host proxy not listed as trusted) are not limited per
// address unless LimitLoopback is set; clients elsewhere are.
func TestLoopbackExemptByDefault(t *testing.T) {
	t.Parallel()
	s := startServer(t, hub.Config{MaxConnsPerAddr: 1, UserRate: 0.001, UserRateBurst: 2})
	a, b := dial(t, s.URL), dial(t, s.URL) // two sockets from 127.0.0.1
	for i := range 3 {
		for _, c := range []*wsClient{a, b} {
			c.send(`{"type":"ping","id":"p` + strconv.Itoa(i) + `"}`)
			c.expect(protocol.TypePong)
		}
	}
	if st := s.Hub.Stats(); st.AddrRefused != 0 || st.UserRateLimited != 0 {
		t.Fatalf("loopback limited: %+v", st)
	}
}
