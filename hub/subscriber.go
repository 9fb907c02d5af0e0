package hub

import (
	"time"

	"github.com/collabedit/collab/protocol"
)

// subscriber is what a room needs of a connection: queue a frame, queue a
// refusal. Neither blocks (a connection too far behind is closed instead),
// so a room never waits on a socket. *conn implements it; room and
// sequencer tests use a recorder.
type subscriber interface {
	send(frame []byte)
	sendError(e *protocol.Error)
}

// origin is where an op came from and where its answers go: a connection
// of this process, or one of another process whose op was forwarded here
// because this process owns the document.
type origin struct {
	c      subscriber // local connection; nil for a forwarded op
	proc   string     // the origin's process (this one for local ops)
	connID string     // the origin's connection id, for the logs and replies
	at     time.Time  // local ops: when the op was read from the socket
	author string     // the user the origin's token names; "" without access control
	// limitKey is what per-user limits count the origin as (limitKey).
	limitKey string
}

// audience is a room's subscribed connections.
type audience map[subscriber]struct{}

// send queues frame for every subscriber but except.
func (a audience) send(frame []byte, except subscriber) {
	for c := range a {
		if c != except {
			c.send(frame)
		}
	}
}

// has reports whether c is subscribed.
func (a audience) has(c subscriber) bool {
	_, ok := a[c]
	return ok
}
