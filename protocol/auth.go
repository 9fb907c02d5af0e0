package protocol

import "strconv"

// Server → client messages of the access-control extension (§18).
const (
	// TypeAuthenticated answers an accepted auth: who the connection now
	// acts as, and until when.
	TypeAuthenticated = "authenticated"
	// TypeAccess comes before the answer to each open on a server that
	// checks access: the connection's role for the document.
	TypeAccess = "access"
)

// Close codes of the access-control extension (§18).
const (
	// CloseUnauthorized: no valid token arrived in time, or the token
	// expired and was not refreshed. Get a fresh token and reconnect.
	CloseUnauthorized = 4401
	// CloseRevoked: the token, or every token of its user, was revoked.
	// Reconnecting with the same token is refused.
	CloseRevoked = 4403
)

// AppendAuthenticated appends {"type":"authenticated","sub":…,"name":…,
// "exp":…,"guest":true}; exp is in Unix seconds and left out when 0 (no
// expiry), guest left out when false.
func AppendAuthenticated(dst []byte, sub, name string, exp int64, guest bool) []byte {
	dst = append(dst, `{"type":"authenticated","sub":`...)
	dst = AppendString(dst, sub)
	dst = append(dst, `,"name":`...)
	dst = AppendString(dst, name)
	if exp != 0 {
		dst = append(dst, `,"exp":`...)
		dst = strconv.AppendInt(dst, exp, 10)
	}
	if guest {
		dst = append(dst, `,"guest":true`...)
	}
	return append(dst, '}')
}

// AppendAccess appends {"type":"access","doc":…,"role":…}.
func AppendAccess(dst []byte, doc, role string) []byte {
	dst = append(dst, `{"type":"access","doc":`...)
	dst = AppendString(dst, doc)
	dst = append(dst, `,"role":`...)
	dst = AppendString(dst, role)
	return append(dst, '}')
}
