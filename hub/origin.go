package hub

import (
	"time"

	"github.com/collabedit/collab/protocol"
)

// origin is where an op came from and where its answers go: a connection
// of this process, or one of another process whose op was forwarded here
// because this process owns the document.
type origin struct {
	c    *conn     // local connection; nil for a forwarded op
	proc string    // the origin's process (this one for local ops)
	conn string    // the origin's connection id
	at   time.Time // local ops: when the op was read from the socket
}

func (r *room) local(c *conn) origin { return origin{c: c, proc: r.h.id, conn: c.id} }

// reply sends frame to the origin: directly, or through the origin
// process's channel.
func (r *room) reply(o origin, id string, frame []byte) {
	if o.c != nil {
		o.c.send(frame)
		return
	}
	if o.proc == "" {
		return
	}
	m := busMsg{Kind: msgReply, Doc: r.doc, ID: id, Proc: o.proc, Conn: o.conn, Frame: string(frame)}
	r.h.pub.send(r.doc, procChannel(o.proc), m)
}

func (r *room) replyError(o origin, e *protocol.Error) {
	if o.c != nil {
		o.c.sendError(e)
		return
	}
	r.h.metrics.refused(e.Code)
	r.reply(o, e.ID, protocol.AppendError(nil, e))
}

// replyAck acks op id at version v to the origin. A remote origin gets
// the version rather than the frame, so its process can hold the ack until
// it has delivered every op before v (protocol §6.3).
func (r *room) replyAck(o origin, id string, v int64) {
	if o.c != nil {
		o.c.send(protocol.AppendAck(nil, r.doc, id, v))
		return
	}
	if o.proc == "" {
		return
	}
	r.h.pub.send(r.doc, procChannel(o.proc), busMsg{Kind: msgAck, Doc: r.doc, ID: id, Version: v, Proc: o.proc, Conn: o.conn})
}
