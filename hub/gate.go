package hub

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/collabedit/collab/auth"
	"github.com/collabedit/collab/clientaddr"
)

// gate decides who comes in over HTTP, before any connection or command
// exists: the client's address (behind trusted proxies, the one they
// name), the per-address socket cap, and a bearer token. The Hub's
// upgrades and its HTTP endpoints (Authenticate, Authorize) pass through
// it; a connection's own standing afterwards is its access (access.go).
// Safe for concurrent use: the counts take their own lock, the rest is
// set in New.
type gate struct {
	n       *node
	clients clientaddr.Resolver // finds client addresses behind trusted proxies
	addrs   addrCounts          // sockets open per client address
}

// pass is what the gate learned of an upgrade it let through.
type pass struct {
	addr   string         // the client's address key (clientaddr.Key), or exemptKey
	remote string         // the client's address, for the logs and the authenticator
	id     *auth.Identity // from an Authorization header; nil: the socket authenticates later
	token  string
}

// enter counts an upgrade against its address and checks its bearer
// token, if it has one. When it returns false it has answered the
// request itself (429 or 401); otherwise the caller must leave with the
// pass's address once the socket is done.
func (g *gate) enter(w http.ResponseWriter, r *http.Request) (pass, bool) {
	addr, remote := g.clientOf(r)
	if addr != exemptKey && !g.addrs.take(addr, g.n.cfg.MaxConnsPerAddr) {
		g.refuse(w, addr)
		return pass{}, false
	}
	id, token, ok := g.bearer(w, r, remote)
	if !ok {
		g.leave(addr)
		return pass{}, false
	}
	return pass{addr: addr, remote: remote, id: id, token: token}, true
}

// leave counts a socket of addr closed (or never opened).
func (g *gate) leave(addr string) {
	if addr != exemptKey {
		g.addrs.release(addr)
	}
}

// refuse answers an upgrade over MaxConnsPerAddr with 429.
func (g *gate) refuse(w http.ResponseWriter, key string) {
	n := g.n
	n.metrics.addrRefused.Add(1)
	n.notice.Warn().Str("addr", key).Int("limit", n.cfg.MaxConnsPerAddr).
		Msg("too many sockets from one address; refused with 429 (behind a reverse proxy? set the trusted proxies)")
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	http.Error(w, fmt.Sprintf("too many connections from your address (limit %d); close some or retry later", n.cfg.MaxConnsPerAddr),
		http.StatusTooManyRequests)
}

// clientOf returns r's client address as the key per-address limits
// count (clientaddr.Key) and as logged and given to the authenticator:
// the TCP peer's host:port, or the address a trusted proxy names.
func (g *gate) clientOf(r *http.Request) (key, remote string) {
	a := g.clients.Of(r)
	key = clientaddr.Key(a)
	if a.IsLoopback() && !g.n.cfg.LimitLoopback {
		key = exemptKey
	}
	if !a.IsValid() || a == clientaddr.Peer(r.RemoteAddr) {
		return key, r.RemoteAddr
	}
	g.n.metrics.forwardedClients.Add(1)
	return key, a.String()
}

// bearer authenticates an upgrade request that carries "Authorization:
// Bearer <token>" (clients that can set headers; browsers cannot and send
// an auth message instead). It answers 401 itself and returns false when
// the token is refused; without the header it returns a nil identity.
func (g *gate) bearer(w http.ResponseWriter, r *http.Request, remote string) (*auth.Identity, string, bool) {
	if g.n.cfg.Auth == nil || !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		return nil, "", true
	}
	id, token, status, err := g.check(r, remote)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "token refused: "+reason(err), status)
		return nil, "", false
	}
	return id, token, true
}

// authenticate is Hub.Authenticate.
func (g *gate) authenticate(r *http.Request) (id *auth.Identity, token string, status int, err error) {
	if g.n.cfg.Auth == nil {
		return auth.Anonymous(), "", 0, nil
	}
	_, remote := g.clientOf(r)
	return g.check(r, remote)
}

// authorize is Hub.Authorize.
func (g *gate) authorize(r *http.Request, id *auth.Identity, token, doc string) auth.Role {
	n := g.n
	if n.cfg.Auth == nil {
		return auth.Write
	}
	_, remote := g.clientOf(r)
	ctx, cancel := n.ioContext(n.cfg.ReadTimeout)
	defer cancel()
	role, err := n.cfg.Auth.Authorize(ctx, id, token, doc, remote)
	if err != nil {
		return auth.None
	}
	return role
}

// check checks r's bearer token, presented from remote.
func (g *gate) check(r *http.Request, remote string) (*auth.Identity, string, int, error) {
	n := g.n
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token == "" {
		return nil, "", http.StatusUnauthorized, auth.ErrNoToken
	}
	ctx, cancel := n.ioContext(n.cfg.ReadTimeout)
	defer cancel()
	id, err := n.cfg.Auth.Authenticate(ctx, token, remote)
	if err == nil && n.revoked.Revoked(id, time.Now()) {
		err = fmt.Errorf("%w: sub %q, jti %q", auth.ErrRevoked, id.Subject, id.TokenID)
	}
	switch {
	case errors.Is(err, auth.ErrUnavailable):
		return nil, "", http.StatusServiceUnavailable, err
	case err != nil:
		n.notice.Info().Err(err).Str("remote", remote).Msg("bearer token refused")
		return nil, "", http.StatusUnauthorized, err
	}
	return id, token, 0, nil
}

// Authenticate says who an HTTP request acts as (the server's query, list,
// share-link and command endpoints): anonymous without access control,
// else the identity of its "Authorization: Bearer" token, checked as a
// socket's auth message is (revocations included), with the client
// address behind trusted proxies. A refusal comes with its HTTP status:
// 401, or 503 when the authorization service did not answer.
func (h *Hub) Authenticate(r *http.Request) (id *auth.Identity, token string, status int, err error) {
	return h.gate.authenticate(r)
}

// Authorize returns the role id (authenticated by Authenticate from r)
// has in doc; None when the authorization service fails.
func (h *Hub) Authorize(r *http.Request, id *auth.Identity, token, doc string) auth.Role {
	return h.gate.authorize(r, id, token, doc)
}
