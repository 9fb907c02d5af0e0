package auth

import "time"

// Identity is who a connection or an HTTP request acts as, and what it may
// do. It comes from a verified token, a webhook's answer, or, in mode
// none, Anonymous.
type Identity struct {
	Subject string    // user id (sub); recorded as the author of every op
	Name    string    // display name, shown to others in presence
	TokenID string    // jti, for revocation; "" when the token had none
	Expires time.Time // exp; zero for an identity that does not expire
	Grants  Grants    // documents and roles
}

// Anonymous is the identity of every connection in mode none: a writer of
// every document, with no name of its own.
func Anonymous() *Identity {
	return &Identity{Grants: Grants{"*": Write}}
}

// Role returns what the identity may do with doc.
func (id *Identity) Role(doc string) Role {
	if id == nil {
		return None
	}
	return id.Grants.Role(doc)
}
