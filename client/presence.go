package client

import (
	"fmt"
	"sort"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/protocol"
)

// SetPresence tells the others in the document who we are and where our
// selection is (code points in the local text; nil for no cursor). The
// server coalesces updates to 20 per second per session; the client keeps
// the last one and sends it again after a reconnect.
func (d *Doc) SetPresence(name, color string, sel *protocol.Selection) error {
	d.mu.Lock()
	defer d.unlock()
	if d.closed {
		return fmt.Errorf("set presence on %q: %w", d.id, d.closeErrLocked())
	}
	p := protocol.Peer{Session: d.c.ID(), Name: name, Color: color, Selection: sel, Version: d.version}
	d.me = &p
	d.send(presenceFrame(d.id, d.version, d.stated()))
	return nil
}

// stated is our presence as the server takes it: the selection on the
// server text at our version, which the server checks it fits. With
// local edits pending, the selection (kept on the local text) is mapped
// back through the buffer and then the op in flight, in time proportional
// to those ops, not to the document.
func (d *Doc) stated() protocol.Peer {
	p := *d.me
	p.Version = d.version
	if p.Selection == nil {
		return p
	}
	sel := *p.Selection
	for _, op := range []document.Op{d.buffer, d.inflightOp()} {
		sel.Anchor, sel.Head = document.BaseIndex(sel.Anchor, op), document.BaseIndex(sel.Head, op)
	}
	n := d.server.Len()
	sel.Anchor, sel.Head = min(sel.Anchor, n), min(sel.Head, n)
	p.Selection = &sel
	return p
}

func (d *Doc) inflightOp() document.Op {
	if d.inflight == nil {
		return nil
	}
	return d.inflight.op
}

// presenceRetry is how long a presence refused because another connection
// still holds our session waits before it is sent again: after a
// reconnect, the server notices the old connection is gone within a round
// trip when it closed, and within its pong wait when it died silently.
const presenceRetry = time.Second

// onPresenceRefused handles the refusal of our presence. forbidden means
// the session is still held by our previous connection: send the latest
// presence again shortly, quietly, with one retry armed at a time however
// many refusals arrive. Anything else is a bug to report.
func (d *Doc) onPresenceRefused(e *protocol.Error) {
	if e.Code != protocol.CodeForbidden {
		d.report(fmt.Errorf("document %q: presence refused: %w", d.id, e))
		return
	}
	if d.presenceRetrying {
		return
	}
	d.presenceRetrying = true
	d.c.after(presenceRetry, func() {
		d.mu.Lock()
		defer d.unlock()
		d.presenceRetrying = false
		if !d.closed && d.me != nil && d.sess != nil {
			d.send(presenceFrame(d.id, d.version, d.stated()))
		}
	})
}

// Peers returns the others present in the document, sorted by session.
func (d *Doc) Peers() []protocol.Peer {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]protocol.Peer, 0, len(d.peers))
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
		d.peers = make(map[string]protocol.Peer, len(msg.Peers))
		for _, p := range msg.Peers {
			d.peers[p.Session] = p
		}
	case protocol.TypePresence:
		if msg.Peer == nil {
			return
		}
		if d.peers == nil {
			d.peers = make(map[string]protocol.Peer)
		}
		d.peers[msg.Peer.Session] = *msg.Peer
	case protocol.TypeLeft:
		delete(d.peers, msg.Session)
	}
	if d.me != nil {
		delete(d.peers, d.me.Session) // our own entry, from the roster
	}
}
