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
	// Guest marks a share link's visitor (claim "guest"): no account, so
	// the name others see is the one the visitor types, marked as a
	// guest's, and Name is only the fallback for one who types none.
	Guest bool
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
