package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

var (
	secret   = []byte("0123456789abcdef0123456789abcdef-test")
	now      = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	edPub    ed25519.PublicKey
	edPriv   ed25519.PrivateKey
	rsaPriv  *rsa.PrivateKey
	ecPriv   *ecdsa.PrivateKey
	otherRSA *rsa.PrivateKey
)

func init() {
	var err error
	if edPub, edPriv, err = ed25519.GenerateKey(rand.Reader); err != nil {
		panic(err)
	}
	if rsaPriv, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if otherRSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if ecPriv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		panic(err)
	}
}

// claims returns valid claims for ann, granting notes as owner.
func claims() jwt.MapClaims {
	return jwt.MapClaims{"sub": "ann", "name": "Ann", "jti": "t1", "exp": now.Add(time.Hour).Unix(),
		"nbf": now.Add(-time.Minute).Unix(), "docs": map[string]string{"notes": "owner", "team-*": "read"}}
}

func sign(tb testing.TB, m jwt.SigningMethod, c jwt.MapClaims, kid string, key any) string {
	tb.Helper()
	t := jwt.NewWithClaims(m, c)
	if kid != "" {
		t.Header["kid"] = kid
	}
	s, err := t.SignedString(key)
	if err != nil {
		tb.Fatalf("sign: %v", err)
	}
	return s
}

func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	c[k] = v
	if v == nil {
		delete(c, k)
	}
	return c
}

func verifier() *Verifier {
	return &Verifier{Now: func() time.Time { return now }, Keys: Keys{Secret: secret, Public: map[string]crypto.PublicKey{
		"ed1": edPub, "rsa1": &rsaPriv.PublicKey, "ec1": &ecPriv.PublicKey}}}
}

// pemOf returns key as a PEM PUBLIC KEY block.
func pemOf(tb testing.TB, key any) []byte {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestVerify(t *testing.T) {
	none := func() string {
		s, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims()).SignedString(jwt.UnsafeAllowNoneSignatureType)
		return s
	}
	good := sign(t, jwt.SigningMethodHS256, claims(), "", secret)
	tests := []struct {
		name  string
		token string
		want  error // nil: accepted
	}{
		{"hs256", good, nil},
		{"eddsa with kid", sign(t, jwt.SigningMethodEdDSA, claims(), "ed1", edPriv), nil},
		{"eddsa without kid", sign(t, jwt.SigningMethodEdDSA, claims(), "", edPriv), nil},
		{"rs256", sign(t, jwt.SigningMethodRS256, claims(), "rsa1", rsaPriv), nil},
		{"es256", sign(t, jwt.SigningMethodES256, claims(), "ec1", ecPriv), nil},
		{"expired within leeway", sign(t, jwt.SigningMethodHS256, with(claims(), "exp", now.Add(-20*time.Second).Unix()), "", secret), nil},
		{"no token", "", ErrNoToken},
		{"malformed", "not.a.token", ErrMalformed},
		{"two parts", "abc.def", ErrMalformed},
		{"tampered payload", tamper(good), ErrSignature},
		{"wrong secret", sign(t, jwt.SigningMethodHS256, claims(), "", []byte(strings.Repeat("x", 40))), ErrSignature},
		{"wrong rsa key", sign(t, jwt.SigningMethodRS256, claims(), "rsa1", otherRSA), ErrSignature},
		{"unknown kid", sign(t, jwt.SigningMethodEdDSA, claims(), "ed9", edPriv), ErrUnknownKey},
		{"kid of another key type", sign(t, jwt.SigningMethodEdDSA, claims(), "rsa1", edPriv), ErrUnknownKey},
		{"alg none", none(), ErrAlgorithm},
		{"HS256 signed with the RSA public key (HS/RS confusion)", sign(t, jwt.SigningMethodHS256, claims(), "rsa1", pemOf(t, &rsaPriv.PublicKey)), ErrSignature},
		{"HS384", sign(t, jwt.SigningMethodHS384, claims(), "", secret), ErrAlgorithm},
		{"RS512", sign(t, jwt.SigningMethodRS512, claims(), "rsa1", rsaPriv), ErrAlgorithm},
		{"expired", sign(t, jwt.SigningMethodHS256, with(claims(), "exp", now.Add(-time.Minute).Unix()), "", secret), ErrExpired},
		{"no exp", sign(t, jwt.SigningMethodHS256, with(claims(), "exp", nil), "", secret), ErrNoExpiry},
		{"not yet valid", sign(t, jwt.SigningMethodHS256, with(claims(), "nbf", now.Add(time.Minute).Unix()), "", secret), ErrNotYetValid},
		{"no sub", sign(t, jwt.SigningMethodHS256, with(claims(), "sub", nil), "", secret), ErrClaims},
		{"unknown role", sign(t, jwt.SigningMethodHS256, with(claims(), "docs", map[string]string{"notes": "admin"}), "", secret), ErrClaims},
		{"docs not an object", sign(t, jwt.SigningMethodHS256, with(claims(), "docs", []string{"notes"}), "", secret), ErrMalformed},
	}
	v := verifier()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := v.Verify(tc.token)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if id.Subject != "ann" || id.Name != "Ann" || id.TokenID != "t1" || id.Role("notes") != Owner || id.Role("team-a") != Read || id.Role("other") != None {
					t.Fatalf("identity %+v", id)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if id != nil {
				t.Fatalf("refused token gave identity %+v", id)
			}
		})
	}
}

// tamper changes the payload of a signed token (sub "ann" → "bob").
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	b, _ := jwt.NewParser().DecodeSegment(parts[1])
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["sub"] = "bob"
	b, _ = json.Marshal(m)
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

func TestVerifyOnlyConfiguredAlgorithms(t *testing.T) {
	// A server with public keys only refuses HS256 outright, whatever the
	// token was signed with: there is no secret to confuse.
	v := &Verifier{Now: func() time.Time { return now }, Keys: Keys{Public: map[string]crypto.PublicKey{"rsa1": &rsaPriv.PublicKey}}}
	for _, key := range [][]byte{pemOf(t, &rsaPriv.PublicKey), secret} {
		if _, err := v.Verify(sign(t, jwt.SigningMethodHS256, claims(), "", key)); !errors.Is(err, ErrAlgorithm) {
			t.Errorf("HS256 on a key-only server: %v, want ErrAlgorithm", err)
		}
	}
	// A secret-only server refuses every public-key algorithm.
	v = &Verifier{Now: func() time.Time { return now }, Keys: Keys{Secret: secret}}
	if _, err := v.Verify(sign(t, jwt.SigningMethodEdDSA, claims(), "", edPriv)); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("EdDSA on a secret-only server: %v, want ErrUnknownKey", err)
	}
}

func TestLeeway(t *testing.T) {
	v := verifier()
	v.Leeway = -1 // none
	tok := sign(t, jwt.SigningMethodHS256, with(claims(), "exp", now.Add(-time.Second).Unix()), "", secret)
	if _, err := v.Verify(tok); !errors.Is(err, ErrExpired) {
		t.Fatalf("without leeway: %v, want ErrExpired", err)
	}
	v.Leeway = 5 * time.Second
	if _, err := v.Verify(tok); err != nil {
		t.Fatalf("with 5 s leeway: %v", err)
	}
}

func TestReadPublicKeys(t *testing.T) {
	dir := t.TempDir()
	// PEM: one block per key; each gets its thumbprint as kid.
	pemFile := filepath.Join(dir, "keys.pem")
	data := append(pemOf(t, edPub), pemOf(t, &ecPriv.PublicKey)...)
	if err := os.WriteFile(pemFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := ReadPublicKeys(pemFile)
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := Thumbprint(edPub)
	if len(keys) != 2 || keys[kid] == nil {
		t.Fatalf("keys %v, want 2 with %s", keys, kid)
	}
	v := &Verifier{Now: func() time.Time { return now }, Keys: Keys{Public: keys}}
	if _, err := v.Verify(sign(t, jwt.SigningMethodEdDSA, claims(), kid, edPriv)); err != nil {
		t.Fatalf("token naming the PEM key's thumbprint: %v", err)
	}
	// JWKS: rotation by kid, the old and the new key side by side.
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &rsaPriv.PublicKey, KeyID: "2026-10", Algorithm: "RS256", Use: "sig"},
		{Key: &otherRSA.PublicKey, KeyID: "2026-11", Algorithm: "RS256", Use: "sig"},
	}}
	js, _ := json.Marshal(set)
	jwksFile := filepath.Join(dir, "keys.json")
	if err := os.WriteFile(jwksFile, js, 0o600); err != nil {
		t.Fatal(err)
	}
	if keys, err = ReadPublicKeys(jwksFile); err != nil || len(keys) != 2 {
		t.Fatalf("jwks: %v, %v", keys, err)
	}
	v.Keys.Public = keys
	for kid, key := range map[string]*rsa.PrivateKey{"2026-10": rsaPriv, "2026-11": otherRSA} {
		if _, err := v.Verify(sign(t, jwt.SigningMethodRS256, claims(), kid, key)); err != nil {
			t.Errorf("kid %s: %v", kid, err)
		}
	}
	if _, err := v.Verify(sign(t, jwt.SigningMethodRS256, claims(), "2026-10", otherRSA)); !errors.Is(err, ErrSignature) {
		t.Errorf("new key under the old kid: %v, want ErrSignature", err)
	}
	// Refused files.
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	private, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: edPriv, KeyID: "p"}}})
	for name, content := range map[string][]byte{
		"empty.pem":    nil,
		"small.pem":    pemOf(t, &small.PublicKey),
		"private.json": private,
		"nokid.json":   []byte(`{"keys":[` + string(mustJSON(t, jose.JSONWebKey{Key: edPub})) + `]}`),
		"priv.pem":     pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}}),
	} {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, content, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadPublicKeys(f); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestReadSecret(t *testing.T) {
	f := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(f, append(secret, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadSecret(f, ""); err != nil || string(got) != string(secret) {
		t.Fatalf("from file: %q, %v", got, err)
	}
	t.Setenv("TEST_AUTH_SECRET", " "+string(secret)+" ")
	if got, err := ReadSecret("", "TEST_AUTH_SECRET"); err != nil || string(got) != string(secret) {
		t.Fatalf("from env: %q, %v", got, err)
	}
	t.Setenv("TEST_AUTH_SECRET", "short")
	if _, err := ReadSecret("", "TEST_AUTH_SECRET"); err == nil {
		t.Fatal("a 5-byte secret was accepted")
	}
}

func TestMintRoundTrip(t *testing.T) {
	m := &Minter{Secret: secret, Now: func() time.Time { return now }}
	tok, err := m.Mint(Identity{Subject: "link:abc", Name: "Guest", Grants: Grants{"notes": Read}, Guest: true}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	id, err := verifier().Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "link:abc" || id.Name != "Guest" || !id.Guest || id.Role("notes") != Read || id.Role("other") != None || id.TokenID == "" || !id.Expires.Equal(now.Add(time.Hour)) {
		t.Fatalf("identity %+v", id)
	}
	if tok, err = m.Mint(Identity{Subject: "ann", Grants: Grants{"notes": Read}}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if id, err := verifier().Verify(tok); err != nil || id.Guest {
		t.Fatalf("a token minted without Guest: %+v, %v", id, err)
	}
	if _, err := (&Minter{Secret: []byte("short")}).Mint(*id, time.Hour); err == nil {
		t.Fatal("minted with a short secret")
	}
}

func TestGrants(t *testing.T) {
	g := Grants{"notes": Owner, "team-*": Write, "*": Read, "a*b*c": Write}
	for doc, want := range map[string]Role{
		"notes": Owner, "team-": Write, "team-x": Write, "teams": Read, "x": Read,
		"abc": Write, "aXbYc": Write, "abcc": Write, "acb": Read,
	} {
		if got := g.Role(doc); got != want {
			t.Errorf("Role(%q) = %v, want %v", doc, got, want)
		}
	}
	if got := (Grants{"notes": Read}).Role("notes2"); got != None {
		t.Errorf("exact pattern matched a longer id: %v", got)
	}
	for _, tc := range []struct {
		pattern, doc string
		want         bool
	}{
		{"*", "", true}, {"*", "anything", true}, {"a*", "a", true}, {"*a", "ba", true}, {"*a", "ab", false},
		{"a*a", "a", false}, {"a*a", "aa", true}, {"**", "x", true}, {"x*y*z", "xyz", true}, {"x*y*z", "xzy", false},
	} {
		if got := Match(tc.pattern, tc.doc); got != tc.want {
			t.Errorf("Match(%q, %q) = %v", tc.pattern, tc.doc, got)
		}
	}
	parsed, err := ParseGrants([]string{"notes:owner", "team-*:read", "notes:write"})
	if err != nil || parsed.String() != "notes:owner team-*:read" {
		t.Fatalf("ParseGrants = %v, %v", parsed, err)
	}
	for _, bad := range []string{"notes", ":read", "notes:admin"} {
		if _, err := ParseGrants([]string{bad}); err == nil {
			t.Errorf("ParseGrants(%q) accepted", bad)
		}
	}
	if Anonymous().Role("any-doc") != Write {
		t.Error("anonymous is not a writer")
	}
	var nobody *Identity
	if nobody.Role("x") != None {
		t.Error("nil identity has a role")
	}
}

func TestRevocations(t *testing.T) {
	var s Revocations
	ann := &Identity{Subject: "ann", TokenID: "t1"}
	bob := &Identity{Subject: "bob", TokenID: "t2"}
	if s.Revoked(ann, now) {
		t.Fatal("revoked in an empty set")
	}
	s.Add(Revocation{TokenID: "t2", Until: now.Add(time.Minute)})
	s.Add(Revocation{Subject: "ann", Until: now.Add(time.Hour)})
	s.Add(Revocation{Subject: "ann", Until: now.Add(time.Minute)}) // an earlier Until does not shorten it
	if !s.Revoked(ann, now) || !s.Revoked(bob, now) {
		t.Fatal("not revoked")
	}
	if s.Revoked(&Identity{Subject: "bob", TokenID: "t3"}, now) {
		t.Fatal("bob's other token revoked")
	}
	if n := s.Expire(now.Add(2 * time.Minute)); n != 1 || s.Revoked(bob, now.Add(2*time.Minute)) || !s.Revoked(ann, now.Add(2*time.Minute)) {
		t.Fatalf("after expiry: %d remain", n)
	}
	if !(Revocation{Subject: "ann"}).Hits(ann) || (Revocation{TokenID: "t9"}).Hits(ann) || (Revocation{}).Hits(&Identity{}) {
		t.Fatal("Hits")
	}
}
