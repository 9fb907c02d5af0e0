package hub

import (
	"sync/atomic"

	"github.com/collabedit/collab/protocol"
)

type cmdKind uint8

const (
	cmdOpen cmdKind = iota
	cmdOp
	cmdLeave
	cmdBus
	cmdPresence
)

// command is what a connection, or the bus, asks of a room.
type command struct {
	kind cmdKind
	from origin // the connection (from.c) and, for an op, when it was read
	req  protocol.Request
	bus  *busMsg // cmdBus; nil: messages may have been lost
}

// inboxLen is a room's command queue: 256 commands is a burst of every
// client of a busy document typing at once; a connection sending to a
// full inbox waits (backpressure on that one client), a bus message is
// dropped and recovered from the log.
const inboxLen = 256

// inbox is the door to a room: connections and the bus put commands in,
// the room's goroutine takes them out.
type inbox struct {
	ch   chan command
	done chan struct{} // closed when the room's goroutine returns
	refs atomic.Int32  // senders between Hub.acquire and delivery
	// lostBus is set when a bus message was dropped because the inbox was
	// full; the room's next tick reads the log.
	lostBus atomic.Bool
}

func newInbox() *inbox {
	return &inbox{ch: make(chan command, inboxLen), done: make(chan struct{})}
}

// deliver hands a command to the room. It blocks while the inbox is full
// and reports false if the room has stopped; an op is then refused.
func (in *inbox) deliver(doc string, cmd command) bool {
	select {
	case in.ch <- cmd:
		return true
	case <-in.done:
		if cmd.kind == cmdOp {
			cmd.from.c.sendError(unavailable(doc, cmd.req.ID, "document is not loaded; reopen it"))
		}
		return false
	}
}

// busIn hands a bus message to the room without ever blocking the bus's
// dispatcher (a room unsubscribing waits for it). When the inbox is full
// the message is dropped and the next tick reads the log instead.
func (in *inbox) busIn(m *busMsg) {
	select {
	case in.ch <- command{kind: cmdBus, bus: m}:
	default:
		in.lostBus.Store(true)
	}
}

// idle reports whether nobody is about to deliver: no reference held and
// nothing queued, so the room may unload.
func (in *inbox) idle() bool { return in.refs.Load() == 0 && len(in.ch) == 0 }
