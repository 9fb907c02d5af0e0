// Package auth decides who may read and write which document: it verifies
// signed tokens (JWTs) locally, mints them for share links and scripts,
// asks an optional webhook, and keeps the revocations that every process
// must honour.
//
// A token names a user (sub, name), its lifetime (exp, nbf), its id (jti)
// and the documents it grants, as patterns with a role each:
//
//	{"sub": "u42", "name": "Ann", "exp": 1767225600, "jti": "k3",
//	 "docs": {"notes": "owner", "team-*": "write", "*": "read"}}
//
// A pattern is a document id in which "*" stands for any run of
// characters; a document gets the highest role of the patterns it
// matches. Roles are ordered: read < write < owner. "guest": true marks a
// token that many people without accounts share (share links): each of
// them names itself in presence, and the hub marks the name as a guest's.
//
// Verification is local (no round trip): HS256 with a shared secret, and
// EdDSA, RS256 and ES256 with public keys from a PEM or JWKS file, chosen
// by the token's kid, so keys can be rotated by publishing the new one
// beside the old. The algorithm is taken from the key, never from the
// token alone: an HS256 token is only checked against the secret and an
// RS256 one only against RSA keys, which closes "alg: none" and the HS/RS
// confusion. Tokens without exp are refused; exp and nbf allow Leeway of
// clock skew (default 30 s).
//
// Concurrency: a Verifier, a Minter and a Revocations are safe for
// concurrent use once built; Revocations and Webhook guard their state
// with a mutex.
package auth
