package hub

import (
	"time"

	"github.com/collabedit/collab/protocol"
)

// follower is what a room keeps while another process sequences its
// document, or while no owner is known: the ops forwarded to the holder
// and not yet seen committed, the ops held until an owner is known, and
// when the last event was heard. Like the sequencer it does no I/O: it
// returns the forwards to send and the ops to place.
type follower struct {
	fwd     map[string]*forward
	waiting []waitingOp // ops that arrived while no owner was known
	heard   time.Time   // last event from the bus, for the position check
}

// forward is an op a follower sent to the document's owner and has not yet
// seen committed. It is resent with the same id until it is: the id makes
// resending safe, and pub/sub may lose the forward or the owner may die.
type forward struct {
	o    origin // a local client; o.at is when its op was read
	req  protocol.Request
	sent time.Time // zero: resend at the next tick
}

// waitingOp is an op that arrived while no owner was known: it is
// sequenced, forwarded or refused when the lease store answers.
type waitingOp struct {
	o   origin
	req protocol.Request
	at  time.Time
}

// maxWaiting bounds the ops held while no owner is known: a document's
// clients make a few per second each, and the store answers within a
// tick, so 1,024 is only reached when the store is unreachable.
const maxWaiting = 1024

func newFollower() follower { return follower{fwd: make(map[string]*forward)} }

// forward records a local client's op sent to the owner at now and
// returns it, to be published.
func (f *follower) forward(o origin, req protocol.Request, now time.Time) *forward {
	fw := &forward{o: o, req: req, sent: now}
	f.fwd[req.ID] = fw
	return fw
}

// answered removes and returns the forward of op id, nil if there is none.
func (f *follower) answered(id string) *forward {
	fw := f.fwd[id]
	if fw != nil {
		delete(f.fwd, id)
	}
	return fw
}

// notOwner marks op id's forward for a resend and reports whether there
// was one: the process it went to does not sequence the document.
func (f *follower) notOwner(id string) bool {
	fw := f.fwd[id]
	if fw != nil {
		fw.sent = time.Time{}
	}
	return fw != nil
}

// due returns the forwards unanswered for retry, to send again, marking
// them sent at now; forwards whose client left are dropped (it resends on
// reconnect).
func (f *follower) due(now time.Time, retry time.Duration, present func(subscriber) bool) (out []*forward) {
	for id, fw := range f.fwd {
		if now.Sub(fw.sent) < retry {
			continue
		}
		if !present(fw.o.c) {
			delete(f.fwd, id)
			continue
		}
		fw.sent = now
		out = append(out, fw)
	}
	return out
}

// resendAll marks every forward for a resend, to a new holder.
func (f *follower) resendAll() {
	for _, fw := range f.fwd {
		fw.sent = time.Time{}
	}
}

// takeForwards returns every forward and forgets them: the room took the
// document over and sequences them itself.
func (f *follower) takeForwards() map[string]*forward {
	all := f.fwd
	f.fwd = make(map[string]*forward)
	return all
}

// hold keeps an op until the lease store says who sequences it.
func (f *follower) hold(o origin, req protocol.Request, now time.Time) bool {
	if len(f.waiting) >= maxWaiting {
		return false
	}
	f.waiting = append(f.waiting, waitingOp{o: o, req: req, at: now})
	return true
}

// takeWaiting returns the held ops and forgets them.
func (f *follower) takeWaiting() []waitingOp {
	w := f.waiting
	f.waiting = nil
	return w
}

// waitedSince is when the oldest held op arrived; false if none is held.
func (f *follower) waitedSince() (time.Time, bool) {
	if len(f.waiting) == 0 {
		return time.Time{}, false
	}
	return f.waiting[0].at, true
}
