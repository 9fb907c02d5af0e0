package hub

import (
	"fmt"
	"time"

	"github.com/collabedit/collab/protocol"
)

// Updates are coalesced to one per session per 50 ms (20/s): a cursor
// moving on every keystroke needs no more, and fan-out stays bounded.
// Entries live Config.PresenceTTL in the store and are refreshed every
// third of it; the roster is reconciled with the store at the same pace, so
// a crashed process's peers are reported as left within about the TTL.
const presenceInterval = 50 * time.Millisecond

// announcer stores and publishes this process's presence changes
// (courier implements it), so the roster itself does no I/O beyond
// queueing frames for its watchers.
type announcer interface {
	peerChanged(p protocol.Peer)
	peerRefresh(p protocol.Peer)
	peerLeft(session string)
}

// roster is a room's presence state: every known peer, which sessions
// this process's connections hold, who watches presence, and the limiter
// that coalesces updates.
type roster struct {
	doc       string
	self      string                   // this process, for default session names
	all       map[string]protocol.Peer // every known peer, by session
	mine      map[subscriber]string    // this process's connections' sessions
	bySession map[string]subscriber    // the inverse of mine: who holds a session here
	watch     map[subscriber]bool      // connections that asked for presence
	limiter   presenceLimiter
	synced    time.Time   // last refresh and reconcile with the store
	timer     *time.Timer // fires when a coalesced update is due; owned by the room
	out       announcer
}

func newRoster(doc, self string, out announcer) *roster {
	return &roster{doc: doc, self: self, out: out, all: make(map[string]protocol.Peer), mine: make(map[subscriber]string),
		bySession: make(map[string]subscriber), watch: make(map[subscriber]bool), limiter: presenceLimiter{Interval: presenceInterval}}
}

// set handles a connection's presence message. fits checks the selection
// against the text at its version. The refusal, if any, names the
// session it concerns.
func (r *roster) set(o origin, p protocol.Peer, fits func(protocol.Peer) *protocol.Error, now time.Time) *protocol.Error {
	c := o.c
	if p.Session == "" {
		p.Session = "conn-" + r.self + "-" + o.connID
	}
	err := fits(p)
	if holder := r.bySession[p.Session]; holder != nil && holder != c {
		// One peer cannot move, rename or remove another.
		err = refuse(protocol.CodeForbidden, r.doc, "", fmt.Sprintf("presence session %q is held by another connection", p.Session))
	}
	if err != nil {
		err.Session = p.Session
		return err
	}
	if !r.watch[c] {
		r.watchFrom(c)
	}
	if old, ok := r.mine[c]; ok && old != p.Session {
		delete(r.bySession, old)
		r.left(old, true)
	}
	r.mine[c], r.bySession[p.Session] = p.Session, c
	if r.limiter.Offer(now, p.Session, p) {
		r.changed(p, true)
		return nil
	}
	r.arm(now)
	return nil
}

// arm sets the timer for the next coalesced update, if any.
func (r *roster) arm(now time.Time) {
	if next, ok := r.limiter.Next(); ok && r.timer != nil {
		r.timer.Reset(time.Until(next)) // not now: the room may have been busy since
	}
}

// flush sends the coalesced updates that are due.
func (r *roster) flush(now time.Time) {
	for _, p := range r.limiter.Due(now) {
		r.changed(p, true)
	}
	r.arm(now)
}

// changed records p and tells the watchers but p's own connection; a
// local change is also announced to the store and the other processes.
func (r *roster) changed(p protocol.Peer, local bool) {
	r.all[p.Session] = p
	frame := protocol.AppendPresence(nil, r.doc, p)
	for c := range r.watch {
		if r.mine[c] != p.Session {
			c.send(frame)
		}
	}
	if local {
		r.out.peerChanged(p)
	}
}

// left forgets a session and tells the watchers (and, for a local one,
// the store and the other processes).
func (r *roster) left(session string, local bool) {
	if _, ok := r.all[session]; !ok && !local {
		return
	}
	delete(r.all, session)
	r.limiter.Forget(session)
	frame := protocol.AppendLeft(nil, r.doc, session)
	for c := range r.watch {
		c.send(frame)
	}
	if local {
		r.out.peerLeft(session)
	}
}

// leave removes a departing connection and its peer.
func (r *roster) leave(c subscriber) {
	delete(r.watch, c)
	s, ok := r.mine[c]
	if !ok {
		return
	}
	delete(r.mine, c)
	if r.bySession[s] == c {
		delete(r.bySession, s)
		r.left(s, true)
	}
}

// remote applies another process's presence message.
func (r *roster) remote(m *busMsg) {
	switch {
	case m.Kind == msgPeer && m.Peer != nil:
		r.changed(*m.Peer, false)
	case m.Kind == msgLeft && r.bySession[m.ID] != nil:
		// The session reconnected here while its old connection was being
		// cleaned up elsewhere: it is still present, say so.
		if p, ok := r.all[m.ID]; ok {
			r.changed(p, true)
		}
	case m.Kind == msgLeft:
		r.left(m.ID, false)
	}
}

// watchFrom subscribes c to presence and sends it everyone present. Only
// connections that ask get presence messages, so clients written against
// v1 alone never see a message type they do not know.
func (r *roster) watchFrom(c subscriber) {
	r.watch[c] = true
	list := make([]protocol.Peer, 0, len(r.all))
	for _, p := range r.all {
		list = append(list, p)
	}
	c.send(protocol.AppendRoster(nil, r.doc, list))
}

// refresh, every third of ttl, re-stores the local peers and reports
// true: the room then reconciles with the store, where the peers of a
// process that died expire and are reported as left here.
func (r *roster) refresh(now time.Time, ttl time.Duration) bool {
	if now.Sub(r.synced) < ttl/3 {
		return false
	}
	r.synced = now
	for _, s := range r.mine {
		if p, ok := r.all[s]; ok {
			r.out.peerRefresh(p)
		}
	}
	return true
}

// reconcile makes the roster match the store (plus local peers).
func (r *roster) reconcile(stored []protocol.Peer) {
	seen := make(map[string]bool, len(stored))
	for _, p := range stored {
		seen[p.Session] = true
		if old, ok := r.all[p.Session]; r.bySession[p.Session] == nil && (!ok || !samePeer(old, p)) {
			r.changed(p, false)
		}
	}
	for s := range r.all {
		if !seen[s] && r.bySession[s] == nil {
			r.left(s, false)
		}
	}
}

func samePeer(a, b protocol.Peer) bool {
	if a.Session != b.Session || a.Name != b.Name || a.Color != b.Color || a.Version != b.Version {
		return false
	}
	if a.Selection == nil || b.Selection == nil {
		return a.Selection == b.Selection
	}
	return *a.Selection == *b.Selection
}
