package auth

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Minter signs tokens with the HS256 secret: share links and the token
// subcommand. Deployments whose tokens come from an identity provider
// (EdDSA, RS256, ES256) mint their own; the server never holds their
// private keys.
type Minter struct {
	Secret []byte
	// Issuer, when set, is written as iss.
	Issuer string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Mint returns a token for id valid for ttl from now, with a random jti
// when id has none. id.Expires is ignored: ttl decides.
func (m *Minter) Mint(id Identity, ttl time.Duration) (string, error) {
	if len(m.Secret) < MinSecretBytes {
		return "", fmt.Errorf("mint: secret of %d bytes, need at least %d", len(m.Secret), MinSecretBytes)
	}
	if id.Subject == "" || ttl <= 0 {
		return "", fmt.Errorf("mint: need a subject and a positive lifetime")
	}
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	jti := id.TokenID
	if jti == "" {
		jti = NewID()
	}
	docs := make(map[string]string, len(id.Grants))
	for p, r := range id.Grants {
		docs[p] = r.String()
	}
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject: id.Subject, ID: jti, Issuer: m.Issuer,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Name:  id.Name,
		Docs:  docs,
		Guest: id.Guest,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(m.Secret)
	if err != nil {
		return "", fmt.Errorf("mint: %w", err)
	}
	return s, nil
}

// NewID returns 16 random bytes as base64url: token ids, link ids.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
