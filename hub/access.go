package hub

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/collabedit/collab/auth"
	"github.com/collabedit/collab/protocol"
)

// access is a connection's standing under access control (protocol §18):
// who it acts as, the token that says so, and its role in each document
// it opened. The reader goroutine owns token and roles; who is atomic
// because revocations, run from the bus, read it.
type access struct {
	c     *conn                         // whose standing this is
	who   atomic.Pointer[auth.Identity] // nil until authenticated
	token string
	roles map[string]auth.Role
	// gen counts (re)authentications; a timer armed for an older token
	// finds it changed and does nothing.
	gen    atomic.Uint64
	timers []*time.Timer
}

// guarded reports whether the hub checks access at all (Config.Auth).
func (a *access) guarded() bool { return a.c.n.cfg.Auth != nil }

// identity is who the connection acts as; nil before it authenticated.
func (a *access) identity() *auth.Identity { return a.who.Load() }

// start arms the deadline to authenticate, or makes the connection
// anonymous when the hub checks nothing; id is an identity already
// established from an Authorization header.
func (a *access) start(id *auth.Identity, token string) {
	c := a.c
	a.roles = make(map[string]auth.Role)
	c.limitKey = limitKey(nil, c.addr)
	switch {
	case !a.guarded():
		a.who.Store(auth.Anonymous())
	case id != nil:
		a.accept(id, token)
	default:
		g := a.gen.Load()
		a.arm(c.n.cfg.AuthTimeout, func() {
			if a.gen.Load() == g && a.identity() == nil {
				c.closeWith(protocol.CloseUnauthorized, fmt.Sprintf("no valid token within %v", c.n.cfg.AuthTimeout))
			}
		})
	}
}

// stop stops the connection's timers (serve, on the way out).
func (a *access) stop() {
	a.gen.Add(1)
	for _, t := range a.timers {
		t.Stop()
	}
}

func (a *access) arm(d time.Duration, fn func()) {
	a.timers = append(a.timers, time.AfterFunc(max(d, 0), fn))
}

// authenticate handles an auth message: a first token, or a refresh.
func (a *access) authenticate(token string) {
	c := a.c
	ctx, cancel := c.n.ioContext(c.n.cfg.ReadTimeout)
	defer cancel()
	if !a.guarded() {
		c.send(protocol.AppendAuthenticated(nil, "", "", 0, false)) // nothing to check: anonymous
		return
	}
	id, err := c.n.cfg.Auth.Authenticate(ctx, token, c.remote)
	if err == nil && c.n.revoked.Revoked(id, time.Now()) {
		err = fmt.Errorf("%w: sub %q, jti %q", auth.ErrRevoked, id.Subject, id.TokenID)
	}
	old := a.identity()
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
	a.accept(id, token)
	a.reauthorize()
}

// accept makes id the connection's identity, tells the client, and arms
// the expiry warning and the close at expiry.
func (a *access) accept(id *auth.Identity, token string) {
	c := a.c
	a.token = token
	a.who.Store(id)
	// A revocation applied since the token was checked found no socket
	// with this identity: look again now that it is stored (the revoker
	// records a revocation before it looks for sockets, so one of the two
	// sees the other).
	if c.n.revoked.Revoked(id, time.Now()) {
		c.closeWith(protocol.CloseRevoked, "access revoked")
		return
	}
	c.limitKey = limitKey(id, c.addr)
	g := a.gen.Add(1)
	var exp int64
	if !id.Expires.IsZero() {
		exp = id.Expires.Unix()
	}
	c.log.Debug().Str("sub", id.Subject).Str("jti", id.TokenID).Msg("authenticated")
	// The answer is queued before the timers are armed: a token that
	// expires within ExpiryWarning is warned about at once, on another
	// goroutine. A warning ahead of the answer makes a client start a
	// refresh, take this answer as the refresh's, and then the refresh's
	// own answer as a new warning: one token too many asked for.
	c.send(protocol.AppendAuthenticated(nil, id.Subject, id.Name, exp, id.Guest))
	if !id.Expires.IsZero() {
		left := time.Until(id.Expires)
		a.arm(left-c.n.cfg.ExpiryWarning, func() {
			if a.gen.Load() == g {
				c.sendError(&protocol.Error{Code: protocol.CodeUnauth, Message: fmt.Sprintf(
					"token expires at %s; send auth with a fresh token on this connection before then", id.Expires.UTC().Format(time.RFC3339))})
			}
		})
		a.arm(left, func() {
			if a.gen.Load() == g {
				c.closeWith(protocol.CloseUnauthorized, "token expired")
			}
		})
	}
}

// reauthorize checks the open documents again after a refresh: a role
// may have changed, and a document no longer granted is closed.
func (a *access) reauthorize() {
	c := a.c
	for doc, was := range a.roles {
		role, err := a.authorize(doc)
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
		a.roles[doc] = role
		c.send(protocol.AppendAccess(nil, doc, role.String()))
	}
}

// authorize asks for the connection's role in doc.
func (a *access) authorize(doc string) (auth.Role, error) {
	c := a.c
	if !a.guarded() {
		return auth.Write, nil
	}
	ctx, cancel := c.n.ioContext(c.n.cfg.ReadTimeout)
	defer cancel()
	return c.n.cfg.Auth.Authorize(ctx, a.identity(), a.token, doc, c.remote)
}

// admit decides an open: it answers a refusal itself and returns false,
// or records the role (and tells a guarded client) and returns true.
func (a *access) admit(req protocol.Request) bool {
	c := a.c
	role, err := a.authorize(req.Doc)
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
	a.roles[req.Doc] = role
	if a.guarded() {
		c.send(protocol.AppendAccess(nil, req.Doc, role.String()))
	}
	return true
}

// mayWrite refuses an op from a connection that may only read, before
// it reaches the room: nothing is applied or stored.
func (a *access) mayWrite(req protocol.Request) bool {
	c := a.c
	if a.roles[req.Doc] >= auth.Write {
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

// guestMark follows the name a guest (a share link's visitor) chose:
// anyone who holds the link can type any name, so others must see that it
// is not a signed-in user's.
const guestMark = " (guest)"

// displayName is the name others see for id: its name, or its user id. A
// guest names itself: asked (what its presence says), trimmed and
// shortened so that with guestMark it fits protocol.MaxNameLen, or the
// link's own name when asked is blank.
func displayName(id *auth.Identity, asked string) string {
	if id.Guest {
		if a := strings.TrimSpace(asked); a != "" {
			if max := protocol.MaxNameLen - utf8.RuneCountInString(guestMark); utf8.RuneCountInString(a) > max {
				a = strings.TrimSpace(string([]rune(a)[:max]))
			}
			return a + guestMark
		}
	}
	if id.Name != "" {
		return id.Name
	}
	return id.Subject
}
