package auth

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// MinSecretBytes is the shortest HS256 secret accepted: RFC 7518 §3.2
// asks for a key at least as long as the hash (256 bits).
const MinSecretBytes = 32

// Keys are what a Verifier checks signatures with: an HS256 secret, and
// public keys by key id (kid). A public key is an ed25519.PublicKey
// (EdDSA), an *rsa.PublicKey (RS256) or an *ecdsa.PublicKey on P-256
// (ES256).
type Keys struct {
	Secret []byte
	Public map[string]crypto.PublicKey
}

// ReadSecret reads an HS256 secret from a file or, when path is empty,
// from the environment variable env; surrounding white space is dropped.
func ReadSecret(path, env string) ([]byte, error) {
	var b []byte
	switch {
	case path != "":
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read secret: %w", err)
		}
		b = bytes.TrimSpace(data)
	case env != "":
		b = []byte(strings.TrimSpace(os.Getenv(env)))
	}
	if len(b) < MinSecretBytes {
		return nil, fmt.Errorf("read secret: %d bytes, need at least %d (e.g. openssl rand -base64 48)", len(b), MinSecretBytes)
	}
	return b, nil
}

// ReadPublicKeys reads public keys from a JWKS file (JSON, each key with
// its kid) or a PEM file (one or more PUBLIC KEY or CERTIFICATE blocks,
// each with its RFC 7638 thumbprint as kid, so a token may name it).
func ReadPublicKeys(path string) (map[string]crypto.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read public keys: %w", err)
	}
	var keys map[string]crypto.PublicKey
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		keys, err = parseJWKS(t)
	} else {
		keys, err = parsePEM(data)
	}
	if err != nil {
		return nil, fmt.Errorf("read public keys from %s: %w", path, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("read public keys from %s: no keys", path)
	}
	return keys, nil
}

func parseJWKS(data []byte) (map[string]crypto.PublicKey, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("parse jwks: %w", err)
	}
	keys := map[string]crypto.PublicKey{}
	for i, k := range set.Keys {
		if k.KeyID == "" {
			return nil, fmt.Errorf("parse jwks: key %d has no kid", i)
		}
		if !k.IsPublic() {
			return nil, fmt.Errorf("parse jwks: key %q is private; publish only public keys", k.KeyID)
		}
		if err := checkKey(k.Key); err != nil {
			return nil, fmt.Errorf("parse jwks: key %q: %w", k.KeyID, err)
		}
		keys[k.KeyID] = k.Key
	}
	return keys, nil
}

func parsePEM(data []byte) (map[string]crypto.PublicKey, error) {
	keys := map[string]crypto.PublicKey{}
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return keys, nil
		}
		var key any
		var err error
		switch b.Type {
		case "PUBLIC KEY":
			key, err = x509.ParsePKIXPublicKey(b.Bytes)
		case "CERTIFICATE":
			var c *x509.Certificate
			if c, err = x509.ParseCertificate(b.Bytes); err == nil {
				key = c.PublicKey
			}
		default:
			return nil, fmt.Errorf("parse pem: a %q block; want PUBLIC KEY or CERTIFICATE", b.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("parse pem: %w", err)
		}
		if err := checkKey(key); err != nil {
			return nil, fmt.Errorf("parse pem: %w", err)
		}
		kid, err := Thumbprint(key)
		if err != nil {
			return nil, err
		}
		keys[kid] = key
	}
}

// checkKey accepts the key types and sizes this package verifies with.
func checkKey(key any) error {
	switch k := key.(type) {
	case ed25519.PublicKey:
		return nil
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("rsa key of %d bits; need at least 2048", k.N.BitLen())
		}
		return nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return fmt.Errorf("ecdsa key on %s; ES256 needs P-256", k.Curve.Params().Name)
		}
		return nil
	}
	return fmt.Errorf("unsupported key type %T", key)
}

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of a public key,
// base64url without padding: the kid given to keys read from PEM.
func Thumbprint(key crypto.PublicKey) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: key}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}
