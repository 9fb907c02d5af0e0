package hub

import (
	"context"
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

// peers is a room's presence state.
type peers struct {
	all       map[string]protocol.Peer // every known peer, by session
	mine      map[*conn]string         // this process's connections' sessions
	bySession map[string]*conn         // the inverse of mine: who holds a session here
	watch     map[*conn]bool           // connections that asked for presence
	limiter   presenceLimiter
	synced    time.Time   // last refresh and reconcile with the store
	timer     *time.Timer // fires when a coalesced update is due
}

func newPeers() peers {
	return peers{all: make(map[string]protocol.Peer), mine: make(map[*conn]string), bySession: make(map[string]*conn),
		watch: make(map[*conn]bool), limiter: presenceLimiter{Interval: presenceInterval}}
}

// setPresence handles a connection's presence message.
func (r *room) setPresence(c *conn, p protocol.Peer) {
	if _, ok := r.subs[c]; !ok {
		c.sendError(refuse(protocol.CodeNotOpen, r.doc, "", "document is not open on this connection; send open first"))
		return
	}
	if p.Session == "" {
		p.Session = "conn-" + r.h.id + "-" + c.id
	}
	if err := r.checkPresence(c, p); err != nil {
		err.Session = p.Session
		c.sendError(err)
		return
	}
	if !r.peers.watch[c] {
		r.watchPresence(c)
	}
	if old, ok := r.peers.mine[c]; ok && old != p.Session {
		delete(r.peers.bySession, old)
		r.peerLeft(old, true)
	}
	r.peers.mine[c], r.peers.bySession[p.Session] = p.Session, c
	if r.peers.limiter.Offer(time.Now(), p.Session, p) {
		r.peerChanged(p, true)
		return
	}
	if next, ok := r.peers.limiter.Next(); ok && r.peers.timer != nil {
		r.peers.timer.Reset(time.Until(next))
	}
}

// checkPresence refuses a session another connection of this process
// holds (so one peer cannot move, rename or remove another), and a
// selection that does not fit the text at its version.
func (r *room) checkPresence(c *conn, p protocol.Peer) *protocol.Error {
	if holder := r.peers.bySession[p.Session]; holder != nil && holder != c {
		return refuse(protocol.CodeForbidden, r.doc, "", fmt.Sprintf("presence session %q is held by another connection", p.Session))
	}
	sel := p.Selection
	if sel == nil {
		return nil
	}
	switch {
	case p.Version > r.version:
		return refuse(protocol.CodeBadVersion, r.doc, "", fmt.Sprintf("selection at version %d is ahead of the document (at %d)", p.Version, r.version))
	case p.Version < r.hist.base:
		return refuse(protocol.CodeBadVersion, r.doc, "", fmt.Sprintf("selection at version %d is older than the server keeps (from %d); send it at your current version", p.Version, r.hist.base))
	}
	n := r.text.Len()
	if p.Version < r.version {
		n = r.hist.at(p.Version).lenBefore
	}
	if sel.Anchor > n || sel.Head > n {
		return refuse(protocol.CodeBadRequest, r.doc, "", fmt.Sprintf("selection {%d, %d} is past the end of the text (%d characters at version %d)", sel.Anchor, sel.Head, n, p.Version))
	}
	return nil
}

// flushPresence sends the coalesced updates that are due.
func (r *room) flushPresence(now time.Time) {
	for _, p := range r.peers.limiter.Due(now) {
		r.peerChanged(p, true)
	}
	if next, ok := r.peers.limiter.Next(); ok {
		r.peers.timer.Reset(time.Until(next))
	}
}

// peerChanged records p and tells local subscribers; local changes are
// also stored and published to the other processes.
func (r *room) peerChanged(p protocol.Peer, local bool) {
	r.peers.all[p.Session] = p
	frame := protocol.AppendPresence(nil, r.doc, p)
	for c := range r.peers.watch {
		if r.peers.mine[c] != p.Session {
			c.send(frame)
		}
	}
	if !local {
		return
	}
	doc := r.doc
	r.h.pub.do(doc, func(ctx context.Context) error { return r.h.cfg.Presence.Put(ctx, doc, p, r.h.cfg.PresenceTTL) })
	pc := p
	r.h.pub.send(doc, docChannel(doc), busMsg{Kind: msgPeer, Doc: doc, Proc: r.h.id, Owner: r.h.id, Peer: &pc})
}

// peerLeft forgets a session and tells local subscribers (and, for a local
// one, the store and the other processes).
func (r *room) peerLeft(session string, local bool) {
	if _, ok := r.peers.all[session]; !ok && !local {
		return
	}
	delete(r.peers.all, session)
	r.peers.limiter.Forget(session)
	frame := protocol.AppendLeft(nil, r.doc, session)
	for c := range r.peers.watch {
		c.send(frame)
	}
	if !local {
		return
	}
	doc := r.doc
	r.h.pub.do(doc, func(ctx context.Context) error { return r.h.cfg.Presence.Remove(ctx, doc, session) })
	r.h.pub.send(doc, docChannel(doc), busMsg{Kind: msgLeft, Doc: doc, ID: session, Proc: r.h.id, Owner: r.h.id})
}

// connLeft removes a departing connection's peer.
func (r *room) connLeft(c *conn) {
	delete(r.peers.watch, c)
	s, ok := r.peers.mine[c]
	if !ok {
		return
	}
	delete(r.peers.mine, c)
	if r.peers.bySession[s] == c {
		delete(r.peers.bySession, s)
		r.peerLeft(s, true)
	}
}

// onPeerMsg applies another process's presence message.
func (r *room) onPeerMsg(m *busMsg) {
	if m.Proc == r.h.id {
		return
	}
	switch {
	case m.Kind == msgPeer && m.Peer != nil:
		r.peerChanged(*m.Peer, false)
	case m.Kind == msgLeft:
		if r.peers.bySession[m.ID] != nil {
			// The session reconnected here while its old connection was
			// being cleaned up elsewhere: it is still present, say so.
			if p, ok := r.peers.all[m.ID]; ok {
				r.peerChanged(p, true)
			}
			return
		}
		r.peerLeft(m.ID, false)
	}
}

// watchPresence subscribes c to presence and sends it everyone present.
// Only connections that ask get presence messages, so clients written
// against v1 alone never see a message type they do not know.
func (r *room) watchPresence(c *conn) {
	r.peers.watch[c] = true
	list := make([]protocol.Peer, 0, len(r.peers.all))
	for _, p := range r.peers.all {
		list = append(list, p)
	}
	c.send(protocol.AppendRoster(nil, r.doc, list))
}

// presenceTick, every third of the TTL, refreshes local entries and reconciles with the store: peers of
// a process that died expire there and are reported as left here.
func (r *room) presenceTick(now time.Time) {
	if now.Sub(r.peers.synced) < r.h.cfg.PresenceTTL/3 {
		return
	}
	r.peers.synced = now
	for _, s := range r.peers.mine {
		if p, ok := r.peers.all[s]; ok {
			doc := r.doc
			r.h.pub.do(doc, func(ctx context.Context) error { return r.h.cfg.Presence.Put(ctx, doc, p, r.h.cfg.PresenceTTL) })
		}
	}
	r.reconcilePeers()
}

// reconcilePeers asks the store for the document's peers, on the
// publisher's goroutine for the document (a slow or paused Redis must not
// block the room); applyRoster gets the answer.
func (r *room) reconcilePeers() {
	doc, pres, box := r.doc, r.h.cfg.Presence, r.rosters
	r.h.pub.do(doc, func(ctx context.Context) error {
		list, err := pres.List(ctx, doc)
		if err != nil {
			return err // keep what we know until the store answers again
		}
		box.put(list)
		return nil
	})
}

// applyRoster makes the roster match the store (plus local peers).
func (r *room) applyRoster(stored []protocol.Peer) {
	local := r.peers.bySession
	seen := make(map[string]bool, len(stored))
	for _, p := range stored {
		seen[p.Session] = true
		if old, ok := r.peers.all[p.Session]; local[p.Session] == nil && (!ok || !samePeer(old, p)) {
			r.peerChanged(p, false)
		}
	}
	for s := range r.peers.all {
		if !seen[s] && local[s] == nil {
			r.peerLeft(s, false)
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
