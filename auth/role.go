package auth

import "fmt"

// Role is what an identity may do with a document. The zero value, None,
// allows nothing; each role includes the ones before it.
type Role uint8

// Roles, in increasing order of power.
const (
	None  Role = iota
	Read       // open, receive ops and presence, send presence
	Write      // also edit
	Owner      // also manage share links (and, when they exist, delete and rename)
)

var roleNames = [...]string{None: "none", Read: "read", Write: "write", Owner: "owner"}

// String returns the role's name as tokens and the protocol write it.
func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return fmt.Sprintf("role(%d)", r)
}

// ParseRole reads "read", "write" or "owner".
func ParseRole(s string) (Role, error) {
	for r, name := range roleNames {
		if name == s && Role(r) != None {
			return Role(r), nil
		}
	}
	return None, fmt.Errorf("parse role: %q is not read, write or owner", s)
}

// MarshalText writes the role's name.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a role's name.
func (r *Role) UnmarshalText(b []byte) error {
	v, err := ParseRole(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}
