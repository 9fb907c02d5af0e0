package hub

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/collabedit/collab/auth"
	"github.com/collabedit/collab/protocol"
)

// access is a connection's standing under access control (protocol §18):
// who it acts as, the token that says so, and its role in each document
// it opened. The reader goroutine owns token and roles; who is atomic
// because revocations, run from the bus, read it.
type access struct {
	who   atomic.Pointer[auth.Identity] // nil until authenticated
	token string
	roles map[string]auth.Role
	// gen counts (re)authentications; a timer armed for an older token
	// finds it changed and does nothing.
	gen    atomic.Uint64
	timers []*time.Timer
}

// guarded reports whether the hub checks access at all (Config.Auth).
func (c *conn) guarded() bool { return c.n.cfg.Auth != nil }

// identity is who the connection acts as; nil before it authenticated.
func (c *conn) identity() *auth.Identity { return c.acc.who.Load() }

// startAccess arms the deadline to authenticate, or makes the connection
// anonymous when the hub checks nothing; id is an identity already
// established from an Authorization header.
func (c *conn) startAccess(id *auth.Identity, token string) {
	c.acc.roles = make(map[string]auth.Role)
	c.limitKey = limitKey(nil, c.addr)
	switch {
	case !c.guarded():
		c.acc.who.Store(auth.Anonymous())
	case id != nil:
		c.accept(id, token)
	default:
		g := c.acc.gen.Load()
		c.arm(c.n.cfg.AuthTimeout, func() {
			if c.acc.gen.Load() == g && c.identity() == nil {
				c.closeWith(protocol.CloseUnauthorized, fmt.Sprintf("no valid token within %v", c.n.cfg.AuthTimeout))
			}
		})
	}
}

// stopAccess stops the connection's timers (serve, on the way out).
func (c *conn) stopAccess() {
	c.acc.gen.Add(1)
	for _, t := range c.acc.timers {
		t.Stop()
	}
}

func (c *conn) arm(d time.Duration, fn func()) {
	c.acc.timers = append(c.acc.timers, time.AfterFunc(max(d, 0), fn))
}

// closeWith closes the connection with code and wakes its reader, from
// any goroutine.
func (c *conn) closeWith(code int, reason string) {
	c.out.close(code, reason, true)
	_ = c.ws.SetReadDeadline(time.Now())
}

// authenticate handles an auth message: a first token, or a refresh.
func (c *conn) authenticate(token string) {
	ctx, cancel := c.n.ioContext(c.n.cfg.ReadTimeout)
	defer cancel()
	if !c.guarded() {
		c.send(protocol.AppendAuthenticated(nil, "", "", 0)) // nothing to check: anonymous
		return
	}
	id, err := c.n.cfg.Auth.Authenticate(ctx, token, c.remote)
	if err == nil && c.n.revoked.Revoked(id, time.Now()) {
		err = fmt.Errorf("%w: sub %q, jti %q", auth.ErrRevoked, id.Subject, id.TokenID)
	}
	old := c.identity()
	if err == nil && old != nil && id.Subject != old.Subject {
		err = fmt.Errorf("%w: a refresh must be for the same user (sub %q, not %q)", auth.ErrClaims, old.Subject, id.Subject)
	}
	if err != nil {
		c.log.Info().Err(err).Str("remote", c.remote).Msg("token refused")
		c.sendError(authError(err))
		// A first token refused is the end of the connection, unless the
		// service failed: then the client may retry until AuthTimeout.
		if old == nil && !errors.Is(err, auth.ErrUnavailable) {
			c.closeWith(closeCodeFor(err), "token refused: "+reason(err))
		}
		return
	}
	c.accept(id, token)
	c.reauthorize()
}

// accept makes id the connection's identity, tells the client, and arms
// the expiry warning and the close at expiry.
func (c *conn) accept(id *auth.Identity, token string) {
	c.acc.token = token
	c.acc.who.Store(id)
	c.limitKey = limitKey(id, c.addr)
	g := c.acc.gen.Add(1)
	var exp int64
	if !id.Expires.IsZero() {
		exp = id.Expires.Unix()
		left := time.Until(id.Expires)
		c.arm(left-c.n.cfg.ExpiryWarning, func() {
			if c.acc.gen.Load() == g {
				c.sendError(&protocol.Error{Code: protocol.CodeUnauth, Message: fmt.Sprintf(
					"token expires at %s; send auth with a fresh token on this connection before then", id.Expires.UTC().Format(time.RFC3339))})
			}
		})
		c.arm(left, func() {
			if c.acc.gen.Load() == g {
				c.closeWith(protocol.CloseUnauthorized, "token expired")
			}
		})
	}
	c.log.Debug().Str("sub", id.Subject).Str("jti", id.TokenID).Msg("authenticated")
	c.send(protocol.AppendAuthenticated(nil, id.Subject, id.Name, exp))
}

// reauthorize checks the open documents again after a refresh: a role
// may have changed, and a document no longer granted is closed.
func (c *conn) reauthorize() {
	for doc, was := range c.acc.roles {
		role, err := c.authorize(doc)
		if err != nil && errors.Is(err, auth.ErrUnavailable) {
			continue // keep what it had until the service answers again
		}
		if role == was {
			continue
		}
		if role < auth.Read {
			c.sendError(&protocol.Error{Code: protocol.CodeForbidden, Doc: doc, Message: "the new token does not grant this document; it was closed"})
			c.leave(doc)
			continue
		}
		c.acc.roles[doc] = role
		c.send(protocol.AppendAccess(nil, doc, role.String()))
	}
}

// authorize asks for the connection's role in doc.
func (c *conn) authorize(doc string) (auth.Role, error) {
	if !c.guarded() {
		return auth.Write, nil
	}
	ctx, cancel := c.n.ioContext(c.n.cfg.ReadTimeout)
	defer cancel()
	return c.n.cfg.Auth.Authorize(ctx, c.identity(), c.acc.token, doc, c.remote)
}

// admit decides an open: it answers a refusal itself and returns false,
// or records the role (and tells a guarded client) and returns true.
func (c *conn) admit(req protocol.Request) bool {
	role, err := c.authorize(req.Doc)
	if err == nil && role < auth.Read {
		err = fmt.Errorf("%w: no grant for this document", auth.ErrDenied)
	}
	if err != nil {
		e := authError(err)
		if e.Code == protocol.CodeUnauth {
			e.Code = protocol.CodeForbidden // the token is fine; this document is not in it
		}
		e.Doc = req.Doc
		c.sendError(e)
		return false
	}
	c.acc.roles[req.Doc] = role
	if c.guarded() {
		c.send(protocol.AppendAccess(nil, req.Doc, role.String()))
	}
	return true
}

// mayWrite refuses an op from a connection that may only read, before
// it reaches the room: nothing is applied or stored.
func (c *conn) mayWrite(req protocol.Request) bool {
	if c.acc.roles[req.Doc] >= auth.Write {
		return true
	}
	c.sendError(&protocol.Error{Code: protocol.CodeForbidden, Doc: req.Doc, ID: req.ID,
		Message: "you may read this document but not edit it; nothing was applied"})
	return false
}

// authError maps an authentication or authorization failure to the
// protocol's error at the edge.
func authError(err error) *protocol.Error {
	if errors.Is(err, auth.ErrUnavailable) {
		return &protocol.Error{Code: protocol.CodeUnavailable, Message: "the authorization service did not answer; retry later"}
	}
	if errors.Is(err, auth.ErrDenied) {
		return &protocol.Error{Code: protocol.CodeForbidden, Message: reason(err)}
	}
	return &protocol.Error{Code: protocol.CodeUnauth, Message: reason(err)}
}

// reason is a refusal's message for the client: the sentinel's words,
// which say what is wrong without echoing the token.
func reason(err error) string {
	for _, s := range []error{auth.ErrNoToken, auth.ErrMalformed, auth.ErrAlgorithm, auth.ErrUnknownKey, auth.ErrSignature,
		auth.ErrNoExpiry, auth.ErrExpired, auth.ErrNotYetValid, auth.ErrClaims, auth.ErrRevoked, auth.ErrDenied, auth.ErrUnavailable} {
		if errors.Is(err, s) {
			if errors.Is(err, auth.ErrDenied) || errors.Is(err, auth.ErrClaims) {
				return err.Error() // the webhook's reason, or which claim
			}
			return s.Error()
		}
	}
	return "token refused"
}

// closeCodeFor is the close code for a refused first token.
func closeCodeFor(err error) int {
	if errors.Is(err, auth.ErrRevoked) {
		return protocol.CloseRevoked
	}
	return protocol.CloseUnauthorized
}

// displayName is the name others see for id: its name, or its user id.
func displayName(id *auth.Identity) string {
	if id.Name != "" {
		return id.Name
	}
	return id.Subject
}

// bearer authenticates an upgrade request that carries "Authorization:
// Bearer <token>" (clients that can set headers; browsers cannot and send
// an auth message instead). It answers 401 itself and returns false when
// the token is refused; without the header it returns a nil identity.
func (h *Hub) bearer(w http.ResponseWriter, r *http.Request, remote string) (*auth.Identity, string, bool) {
	if h.cfg.Auth == nil || !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		return nil, "", true
	}
	id, token, status, err := h.authenticateHTTP(r, remote)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "token refused: "+reason(err), status)
		return nil, "", false
	}
	return id, token, true
}

// Authenticate says who an HTTP request acts as (the server's query, list,
// share-link and command endpoints): anonymous without access control,
// else the identity of its "Authorization: Bearer" token, checked as a
// socket's auth message is (revocations included), with the client
// address behind trusted proxies. A refusal comes with its HTTP status:
// 401, or 503 when the authorization service did not answer.
func (h *Hub) Authenticate(r *http.Request) (id *auth.Identity, token string, status int, err error) {
	if h.cfg.Auth == nil {
		return auth.Anonymous(), "", 0, nil
	}
	_, remote := h.clientOf(r)
	return h.authenticateHTTP(r, remote)
}

// Authorize returns the role id (authenticated by Authenticate from r)
// has in doc; None when the authorization service fails.
func (h *Hub) Authorize(r *http.Request, id *auth.Identity, token, doc string) auth.Role {
	if h.cfg.Auth == nil {
		return auth.Write
	}
	_, remote := h.clientOf(r)
	ctx, cancel := h.ioContext(h.cfg.ReadTimeout)
	defer cancel()
	role, err := h.cfg.Auth.Authorize(ctx, id, token, doc, remote)
	if err != nil {
		return auth.None
	}
	return role
}

// authenticateHTTP checks r's bearer token, presented from remote.
func (h *Hub) authenticateHTTP(r *http.Request, remote string) (*auth.Identity, string, int, error) {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token == "" {
		return nil, "", http.StatusUnauthorized, auth.ErrNoToken
	}
	ctx, cancel := h.ioContext(h.cfg.ReadTimeout)
	defer cancel()
	id, err := h.cfg.Auth.Authenticate(ctx, token, remote)
	if err == nil && h.revoked.Revoked(id, time.Now()) {
		err = fmt.Errorf("%w: sub %q, jti %q", auth.ErrRevoked, id.Subject, id.TokenID)
	}
	switch {
	case errors.Is(err, auth.ErrUnavailable):
		return nil, "", http.StatusServiceUnavailable, err
	case err != nil:
		h.notice.Info().Err(err).Str("remote", remote).Msg("bearer token refused")
		return nil, "", http.StatusUnauthorized, err
	}
	return id, token, 0, nil
}
