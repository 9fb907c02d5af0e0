package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultLeeway is the clock skew allowed on exp and nbf.
const DefaultLeeway = 30 * time.Second

// Verifier checks tokens locally against Keys.
type Verifier struct {
	Keys Keys
	// Leeway is the clock skew allowed on exp and nbf; zero means
	// DefaultLeeway, a negative value none.
	Leeway time.Duration
	// Issuer and Audience, when set, must match the token's iss and aud.
	Issuer, Audience string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verify checks token's signature and claims and returns who it names.
// Every refusal wraps one of the package's sentinel errors.
func (v *Verifier) Verify(token string) (*Identity, error) {
	if token == "" {
		return nil, ErrNoToken
	}
	opts := []jwt.ParserOption{jwt.WithExpirationRequired(), jwt.WithLeeway(v.leeway())}
	if v.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(v.Now))
	}
	if v.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(v.Issuer))
	}
	if v.Audience != "" {
		opts = append(opts, jwt.WithAudience(v.Audience))
	}
	var c Claims
	if _, err := jwt.ParseWithClaims(token, &c, v.key, opts...); err != nil {
		return nil, classify(err)
	}
	return c.identity()
}

func (v *Verifier) leeway() time.Duration {
	switch {
	case v.Leeway == 0:
		return DefaultLeeway
	case v.Leeway < 0:
		return 0
	}
	return v.Leeway
}

// key picks the key for a token from its alg and kid. The alg decides the
// key type, so a token can never be checked with a key of another kind:
// "none" and unknown algorithms are refused here, an HS256 token only
// meets the secret, an RS256 token only RSA keys.
func (v *Verifier) key(t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	kid, _ := t.Header["kid"].(string)
	if alg == jwt.SigningMethodHS256.Alg() {
		if len(v.Keys.Secret) == 0 {
			return nil, fmt.Errorf("%w: HS256 (no secret configured)", ErrAlgorithm)
		}
		return v.Keys.Secret, nil
	}
	var want func(crypto.PublicKey) bool
	switch alg {
	case jwt.SigningMethodEdDSA.Alg():
		want = func(k crypto.PublicKey) bool { _, ok := k.(ed25519.PublicKey); return ok }
	case jwt.SigningMethodRS256.Alg():
		want = func(k crypto.PublicKey) bool { _, ok := k.(*rsa.PublicKey); return ok }
	case jwt.SigningMethodES256.Alg():
		want = func(k crypto.PublicKey) bool { _, ok := k.(*ecdsa.PublicKey); return ok }
	default:
		return nil, fmt.Errorf("%w: %q", ErrAlgorithm, alg)
	}
	var set jwt.VerificationKeySet
	for id, k := range v.Keys.Public {
		if want(k) && (kid == "" || kid == id) {
			set.Keys = append(set.Keys, k)
		}
	}
	if len(set.Keys) == 0 {
		return nil, fmt.Errorf("%w: alg %s, kid %q", ErrUnknownKey, alg, kid)
	}
	return set, nil
}

// classify maps the JWT library's errors to the package's sentinels.
func classify(err error) error {
	for _, m := range []struct{ ours, theirs error }{
		{ErrAlgorithm, nil}, {ErrUnknownKey, nil},
		{ErrNoExpiry, jwt.ErrTokenRequiredClaimMissing},
		{ErrExpired, jwt.ErrTokenExpired},
		{ErrNotYetValid, jwt.ErrTokenNotValidYet},
		{ErrMalformed, jwt.ErrTokenMalformed},
		{ErrSignature, jwt.ErrTokenSignatureInvalid},
		{ErrClaims, jwt.ErrTokenInvalidClaims},
	} {
		if errors.Is(err, m.ours) || (m.theirs != nil && errors.Is(err, m.theirs)) {
			return fmt.Errorf("%w: %v", m.ours, err)
		}
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}
