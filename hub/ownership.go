package hub

import "time"

// role is what a room does for its document among the processes that
// share it. The lease store alone decides it: a room never infers
// ownership from the events it hears, because two rooms that each
// inferred the other owned the document (after a Redis pause) both
// refused every op and neither renewed the lease again.
type role uint8

const (
	// acquiring: no owner is known. The room has just loaded, its lease
	// lapsed, or the lease store could not be reached. It asks every
	// ClusterTick; ops wait for the answer.
	acquiring role = iota
	// owning: this process holds the lease and sequences the document
	// until the lease, as last renewed, could expire.
	owning
	// following: another process holds the lease; ops are forwarded to
	// it and its events applied here.
	following
)

func (r role) String() string {
	switch r {
	case owning:
		return "owning"
	case following:
		return "following"
	}
	return "acquiring"
}

// transition names what a lease answer or the clock did to a room's role,
// so that the room can act on each one (room_lease.go).
type transition uint8

const (
	unchanged transition = iota
	tookOver             // acquiring or following → owning: catch up from the log, then sequence
	renewed              // owning → owning: the lease was extended
	deposed              // owning → following: another process holds the lease
	lapsed               // owning → acquiring: the lease could have expired unrenewed
	followed             // acquiring or following → following a new holder
	lost                 // following → acquiring: the lease store cannot be reached
)

func (t transition) String() string {
	return [...]string{"unchanged", "took over", "renewed", "deposed", "lapsed", "followed", "lost"}[t]
}

// ownership is a room's view of its document's lease: a pure state
// machine, with no I/O and no clock of its own, so every transition is
// tested directly (ownership_test.go). The room asks the lease store when
// due, feeds the answer to answer, and the clock to expire.
type ownership struct {
	self   string        // this process's id
	ttl    time.Duration // the lease's time to live
	role   role
	holder string    // following: the process holding the lease
	until  time.Time // owning: sequence only before this
	asked  time.Time // when the last question was sent
	asking bool      // a question is in flight; at most one is
}

// leaseMargin is the part of the TTL an owner gives up: it stops
// sequencing a tenth of the TTL before the lease could expire in the
// store (500 ms of the default 5 s), so that the commits it already
// handed to the log normally land before another process can take the
// lease. The log's guards, not this margin, keep a late one harmless.
func leaseMargin(ttl time.Duration) time.Duration { return ttl / 10 }

// due reports whether the room should ask the store now: an owner renews
// and a follower checks the holder every third of the TTL (so a dead
// owner is replaced within TTL + TTL/3), and a room that knows no owner
// asks every tick.
func (o *ownership) due(now time.Time, tick time.Duration) bool {
	if o.asking {
		return false
	}
	every := o.ttl / 3
	if o.role == acquiring {
		every = tick
	}
	return now.Sub(o.asked) >= every
}

// ask records that a question was sent at now.
func (o *ownership) ask(now time.Time) {
	o.asking, o.asked = true, now
}

// answer applies the store's answer to the question sent at sent: holder
// holds the lease, or err says the store could not be reached. An owner
// keeps its role on an error until expire ends it, since the lease it
// holds cannot be taken before then.
func (o *ownership) answer(holder string, err error, sent, now time.Time) transition {
	o.asking = false
	if err != nil {
		if o.role == following {
			o.role, o.holder = acquiring, ""
			return lost
		}
		return unchanged
	}
	if holder == o.self {
		until := sent.Add(o.ttl - leaseMargin(o.ttl))
		if !until.After(now) {
			return unchanged // answered too late to sequence on; ask again
		}
		if o.role == owning {
			if until.After(o.until) {
				o.until = until
			}
			return renewed
		}
		o.role, o.holder, o.until = owning, "", until
		return tookOver
	}
	was, changed := o.role, holder != o.holder
	o.role, o.holder = following, holder
	switch {
	case was == owning:
		return deposed
	case was == acquiring || changed:
		return followed
	}
	return unchanged
}

// expire ends an owner's role once its lease could have expired.
func (o *ownership) expire(now time.Time) transition {
	if o.role != owning || now.Before(o.until) {
		return unchanged
	}
	o.role = acquiring
	return lapsed
}

// sequencing reports whether this process may sequence ops now.
func (o *ownership) sequencing(now time.Time) bool {
	return o.role == owning && now.Before(o.until)
}

// permanent makes this process the owner for good: with no bus there is
// no other process, and nothing to ask.
func (o *ownership) permanent() {
	o.role, o.until = owning, time.Unix(1<<62, 0)
	o.asked = o.until // never due
}
