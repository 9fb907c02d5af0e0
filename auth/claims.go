package auth

import (
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are a token's claims: the registered ones (sub, exp, nbf, jti,
// iat, iss, aud), the display name and the documents granted.
type Claims struct {
	jwt.RegisteredClaims
	Name  string            `json:"name,omitempty"`
	Docs  map[string]string `json:"docs,omitempty"`  // pattern → "read" | "write" | "owner"
	Guest bool              `json:"guest,omitempty"` // Identity.Guest
}

// identity turns verified claims into an Identity.
func (c *Claims) identity() (*Identity, error) {
	if c.Subject == "" {
		return nil, fmt.Errorf("%w: no sub", ErrClaims)
	}
	g := make(Grants, len(c.Docs))
	for p, name := range c.Docs {
		r, err := ParseRole(name)
		if err != nil {
			return nil, fmt.Errorf("%w: docs[%q]: %w", ErrClaims, p, err)
		}
		if p == "" {
			return nil, fmt.Errorf("%w: empty document pattern", ErrClaims)
		}
		g[p] = r
	}
	id := &Identity{Subject: c.Subject, Name: c.Name, TokenID: c.ID, Grants: g, Guest: c.Guest}
	if c.ExpiresAt != nil {
		id.Expires = c.ExpiresAt.Time
	}
	return id, nil
}
