package auth

import "errors"

// Sentinel errors, wrapped by Verify and Webhook with the details; match
// them with errors.Is. The hub maps them to protocol codes at its edge.
var (
	ErrNoToken     = errors.New("no token")
	ErrMalformed   = errors.New("malformed token")
	ErrAlgorithm   = errors.New("algorithm not accepted")
	ErrUnknownKey  = errors.New("no key for this token")
	ErrSignature   = errors.New("signature invalid")
	ErrNoExpiry    = errors.New("token has no expiry")
	ErrExpired     = errors.New("token expired")
	ErrNotYetValid = errors.New("token not valid yet")
	ErrClaims      = errors.New("invalid claims")
	ErrRevoked     = errors.New("token revoked")
	ErrDenied      = errors.New("access denied")
	ErrUnavailable = errors.New("authorization service unavailable")
)
