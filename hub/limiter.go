package hub

import (
	"slices"
	"strings"
	"time"

	"github.com/collabedit/collab/protocol"
)

// presenceLimiter coalesces a session's presence updates: at most one per
// Interval is let through; an update arriving sooner is held and the
// latest held one is released when the interval passes (the caller polls
// Due, e.g. from a timer set with Next). A held update is replaced, not
// queued, by a newer one: only the latest state of a peer matters.
//
// A room holds one with Interval presenceInterval (50 ms), so a client
// dragging a selection produces at most 20 broadcasts a second.
//
// The zero value lets every update through (Interval 0). It is not safe
// for concurrent use: a room calls it from its own goroutine only.
type presenceLimiter struct {
	// Interval is the minimum time between two updates sent for one
	// session. Zero or negative disables limiting.
	Interval time.Duration

	sessions map[string]*limitState
}

type limitState struct {
	last time.Time      // when an update of this session was last sent
	held *protocol.Peer // latest update not sent yet, or nil
}

// Offer reports whether p, an update of session, should be sent now. If
// not, p is held (replacing any update held for session) until Due
// releases it. An update let through discards any held one, which it
// supersedes.
func (l *presenceLimiter) Offer(now time.Time, session string, p protocol.Peer) (send bool) {
	if l.Interval <= 0 {
		return true
	}
	if l.sessions == nil {
		l.sessions = make(map[string]*limitState)
	}
	st := l.sessions[session]
	if st == nil {
		l.sessions[session] = &limitState{last: now}
		return true
	}
	if !now.Before(st.last.Add(l.Interval)) {
		st.last, st.held = now, nil
		return true
	}
	st.held = &p
	return false
}

// Due returns the held updates whose interval has passed at now, sorted by
// Session, and counts each as sent at now. Each held update is returned
// once. Sessions with nothing held and an interval long past are
// forgotten, so the limiter does not grow with sessions that left without
// Forget.
func (l *presenceLimiter) Due(now time.Time) []protocol.Peer {
	var out []protocol.Peer
	for s, st := range l.sessions {
		if now.Before(st.last.Add(l.Interval)) {
			continue
		}
		if st.held == nil {
			delete(l.sessions, s) // same as never seen
			continue
		}
		out = append(out, *st.held)
		st.last, st.held = now, nil
	}
	slices.SortFunc(out, func(a, b protocol.Peer) int { return strings.Compare(a.Session, b.Session) })
	return out
}

// Forget drops everything known about session, including a held update:
// call it when the session leaves.
func (l *presenceLimiter) Forget(session string) {
	delete(l.sessions, session)
}

// Next returns the earliest time at which a held update becomes due, and
// false if nothing is held.
func (l *presenceLimiter) Next() (time.Time, bool) {
	var next time.Time
	found := false
	for _, st := range l.sessions {
		if st.held == nil {
			continue
		}
		if t := st.last.Add(l.Interval); !found || t.Before(next) {
			next, found = t, true
		}
	}
	return next, found
}
