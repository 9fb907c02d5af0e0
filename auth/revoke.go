package auth

import (
	"sync"
	"time"
)

// Revocation withdraws every token of a user (Subject) or one token
// (TokenID) until Until, after which the tokens it targets have expired
// anyway and it can be forgotten.
type Revocation struct {
	Subject string    `json:"sub,omitempty"`
	TokenID string    `json:"jti,omitempty"`
	Until   time.Time `json:"until"`
}

// Hits reports whether r withdraws id.
func (r Revocation) Hits(id *Identity) bool {
	if id == nil {
		return false
	}
	return (r.Subject != "" && r.Subject == id.Subject) || (r.TokenID != "" && r.TokenID == id.TokenID)
}

// Revocations is the set of revocations in force. The zero value is empty
// and ready to use.
type Revocations struct {
	mu   sync.Mutex
	subs map[string]time.Time
	jtis map[string]time.Time
}

// Add records r; a later Until for the same target wins.
func (s *Revocations) Add(r Revocation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs == nil {
		s.subs, s.jtis = map[string]time.Time{}, map[string]time.Time{}
	}
	if r.Subject != "" && r.Until.After(s.subs[r.Subject]) {
		s.subs[r.Subject] = r.Until
	}
	if r.TokenID != "" && r.Until.After(s.jtis[r.TokenID]) {
		s.jtis[r.TokenID] = r.Until
	}
}

// Revoked reports whether id is withdrawn at now.
func (s *Revocations) Revoked(id *Identity, now time.Time) bool {
	if id == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.subs[id.Subject]; ok && id.Subject != "" && now.Before(t) {
		return true
	}
	t, ok := s.jtis[id.TokenID]
	return ok && id.TokenID != "" && now.Before(t)
}

// Expire forgets revocations whose Until has passed and returns how many
// remain.
func (s *Revocations) Expire(now time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range []map[string]time.Time{s.subs, s.jtis} {
		for k, t := range m {
			if !now.Before(t) {
				delete(m, k)
			}
		}
	}
	return len(s.subs) + len(s.jtis)
}
