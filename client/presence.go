package client

import (
	"fmt"
	"sort"

	"github.com/collabedit/collab/presence"
	"github.com/collabedit/collab/protocol"
)

// SetPresence tells the others in the document who we are and where our
// selection is (code points in the local text; nil for no cursor). The
// server coalesces updates to 20 per second per session; the client keeps
// the last one and sends it again after a reconnect.
func (d *Doc) SetPresence(name, color string, sel *presence.Selection) error {
	d.mu.Lock()
	defer d.unlock()
	if d.closed {
		return fmt.Errorf("set presence on %q: %w", d.id, d.closeErrLocked())
	}
	p := presence.Peer{Session: d.c.ID(), Name: name, Color: color, Selection: sel, Version: d.version}
	d.me = &p
	d.send(presenceFrame(d.id, d.version, p))
	return nil
}

// Peers returns the others present in the document, sorted by session.
func (d *Doc) Peers() []presence.Peer {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]presence.Peer, 0, len(d.peers))
	for _, p := range d.peers {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Session < out[j].Session })
	return out
}

// onPresence applies a roster, a peer's change or a departure.
func (d *Doc) onPresence(msg protocol.Message) {
	switch msg.Type {
	case protocol.TypeRoster:
		d.peers = make(map[string]presence.Peer, len(msg.Peers))
		for _, p := range msg.Peers {
			d.peers[p.Session] = p
		}
	case protocol.TypePresence:
		if msg.Peer == nil {
			return
		}
		if d.peers == nil {
			d.peers = make(map[string]presence.Peer)
		}
		d.peers[msg.Peer.Session] = *msg.Peer
	case protocol.TypeLeft:
		delete(d.peers, msg.Session)
	}
	if d.me != nil {
		delete(d.peers, d.me.Session) // our own entry, from the roster
	}
}
