package hub

import (
	"context"
	"time"

	"github.com/collabedit/collab/protocol"
)

var _ announcer = (*courier)(nil)

// courier carries one document's messages to origins and to the other
// processes: answers to an op's origin (directly, or through its
// process's channel), published events, forwards, and presence. Every
// publish is queued on the hub's publisher, so none blocks the room.
type courier struct {
	doc   string
	self  string   // this process
	chans channels // the bus's channel names
	pub   *publisher
	m     *metrics
	pres  Presence
	ttl   time.Duration // Config.PresenceTTL
}

// reply sends frame to o: directly, or through o's process channel.
func (k *courier) reply(o origin, id string, frame []byte) {
	if o.c != nil {
		o.c.send(frame)
		return
	}
	if o.proc == "" {
		return
	}
	k.pub.send(k.doc, k.chans.proc(o.proc), busMsg{Kind: msgReply, Doc: k.doc, ID: id, Proc: o.proc, Conn: o.connID, Frame: string(frame)})
}

// refuse sends a refusal to o, counted by code.
func (k *courier) refuse(o origin, e *protocol.Error) {
	if o.c != nil {
		o.c.sendError(e)
		return
	}
	k.m.refused(e.Code)
	k.reply(o, e.ID, protocol.AppendError(nil, e))
}

// ack acks op id at version v to o. A remote origin gets the version
// rather than the frame, so its process can hold the ack until it has
// delivered every op before v (protocol §6.3).
func (k *courier) ack(o origin, id string, v int64) {
	if o.c != nil {
		o.c.send(protocol.AppendAck(nil, k.doc, id, v))
		return
	}
	if o.proc == "" {
		return
	}
	k.pub.send(k.doc, k.chans.proc(o.proc), busMsg{Kind: msgAck, Doc: k.doc, ID: id, Version: v, Proc: o.proc, Conn: o.connID})
}

// event publishes a committed op, so other processes deliver it to their
// clients and ack it to its origin if it was forwarded from one of them.
func (k *courier) event(o *outcome) {
	k.pub.send(k.doc, k.chans.doc(k.doc), busMsg{Kind: msgEvent, Doc: k.doc, Version: o.version, ID: o.id,
		Author: o.author, Op: o.payload, Proc: o.from.proc, Conn: o.from.connID, Owner: k.self, Time: o.at.UnixNano(), Life: o.life})
}

// refuseAll answers every op held for an owner with unavailable.
func (k *courier) refuseAll(held []waitingOp, msg string) {
	for _, w := range held {
		k.m.opsRefused.Add(1)
		k.refuse(w.o, unavailable(k.doc, w.req.ID, msg))
	}
}

// forwardAll sends local clients' ops to the holder's process.
func (k *courier) forwardAll(holder string, fs ...*forward) {
	for _, f := range fs {
		k.m.forwarded.Add(1)
		k.pub.send(k.doc, k.chans.proc(holder), busMsg{Kind: msgForward, Doc: k.doc, Version: f.req.Version, ID: f.req.ID,
			Op: f.req.Op.AppendJSON(nil), Proc: k.self, Conn: f.o.connID, Author: f.o.author, Key: f.o.limitKey, Life: f.req.Lifecycle})
	}
}

// notOwner tells the origin of a forwarded op that this process does not
// sequence the document: the origin keeps the op, asks the lease store
// who does, and forwards it there. The client never sees this.
func (k *courier) notOwner(o origin, id string) {
	k.pub.send(k.doc, k.chans.proc(o.proc), busMsg{Kind: msgNotOwner, Doc: k.doc, ID: id, Proc: o.proc, Conn: o.connID})
}

// peerChanged stores a local peer and publishes it to the other processes.
func (k *courier) peerChanged(p protocol.Peer) {
	k.peerRefresh(p)
	k.pub.send(k.doc, k.chans.doc(k.doc), busMsg{Kind: msgPeer, Doc: k.doc, Proc: k.self, Owner: k.self, Peer: &p})
}

// peerRefresh extends a local peer's entry in the store.
func (k *courier) peerRefresh(p protocol.Peer) {
	doc, pres, ttl := k.doc, k.pres, k.ttl
	k.pub.do(doc, func(ctx context.Context) error { return pres.Put(ctx, doc, p, ttl) })
}

// peerLeft removes a local peer from the store and tells the others.
func (k *courier) peerLeft(session string) {
	doc, pres := k.doc, k.pres
	k.pub.do(doc, func(ctx context.Context) error { return pres.Remove(ctx, doc, session) })
	k.pub.send(doc, k.chans.doc(doc), busMsg{Kind: msgLeft, Doc: doc, ID: session, Proc: k.self, Owner: k.self})
}

// listPeers asks the store for the document's peers, on the publisher's
// goroutine for the document (a slow or paused Redis must not block the
// room); the answer goes to box, and nothing if the store fails.
func (k *courier) listPeers(box *mailbox[[]protocol.Peer]) {
	doc, pres := k.doc, k.pres
	k.pub.do(doc, func(ctx context.Context) error {
		list, err := pres.List(ctx, doc)
		if err != nil {
			return err // keep what we know until the store answers again
		}
		box.put(list)
		return nil
	})
}
