package hub

import (
	"context"
	"sync"
	"time"
)

// leaseAnswer is the lease store's answer to a room's question.
type leaseAnswer struct {
	holder string
	err    error
	sent   time.Time
}

// leaseCalls makes one room's calls to the lease store and the directory.
// Each is bounded by a third of the lease TTL, so an owner whose store
// hangs learns it in time to stop sequencing, and derives from the hub's
// I/O context, so Close can cancel it. Questions asked with ask run on a
// goroutine of their own, at most one at a time (ownership.asking), and
// answer through a mailbox, so a slow or paused Redis never blocks the
// room nor piles up calls.
type leaseCalls struct {
	leases  Leases
	dir     Directory // nil: no routing
	doc     string
	self    string
	solo    bool // no bus: this process owns every document for good
	timeout time.Duration
	io      context.Context // the hub's I/O context
	answers *mailbox[leaseAnswer]
	bg      sync.WaitGroup // questions in flight

	// The holder's advertised URL, looked up once per holder.
	urlOf, holderURL string
}

// ask sends a question unless one is in flight or the room is alone.
func (l *leaseCalls) ask(own *ownership, now time.Time) {
	if l.solo || own.asking {
		return
	}
	own.ask(now)
	l.bg.Add(1)
	go func() {
		defer l.bg.Done()
		l.answers.put(l.call(now))
	}()
}

// call asks the lease store who holds the document, taking the lease if
// it is free. It touches no room state, so it runs on any goroutine.
func (l *leaseCalls) call(sent time.Time) leaseAnswer {
	ctx, cancel := context.WithTimeout(l.io, l.timeout)
	defer cancel()
	holder, err := l.leases.Acquire(ctx, l.doc, l.self)
	return leaseAnswer{holder: holder, err: err, sent: sent}
}

// claim asks once, inline, before the room serves its first client: the
// process that loads a document for its client takes the lease if nobody
// holds it, so that client's first ops are not held or forwarded. It
// costs the first open one round trip to Redis (under a millisecond), at
// most a third of the TTL when Redis does not answer.
func (l *leaseCalls) claim(own *ownership) (leaseAnswer, bool) {
	if l.solo {
		return leaseAnswer{}, false
	}
	now := time.Now()
	own.ask(now)
	return l.call(now), true
}

// wait waits for the question in flight and returns every answer not yet
// taken: one may have taken the lease, which the room then releases
// rather than leave it to expire.
func (l *leaseCalls) wait() []leaseAnswer {
	l.bg.Wait()
	return l.answers.take(nil)
}

// release gives the lease up when the room unloads, so another process
// can take the document at once rather than after the lease's TTL. It
// alone is not cancelled by Close: a room that finishes draining after
// Close gave up waiting (a stuck disk) still hands its document over at
// once, within the same TTL/3 bound.
func (l *leaseCalls) release() error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(l.io), l.timeout)
	defer cancel()
	return l.leases.Release(ctx, l.doc, l.self)
}

// locate returns the URL holder advertised, "" if unknown or there is no
// directory. It is looked up once per holder: a Redis GET on the room's
// goroutine, ≈0.1 ms, only when the lease changed hands.
func (l *leaseCalls) locate(holder string) (string, error) {
	if holder == "" || l.dir == nil {
		return "", nil
	}
	if l.urlOf != holder {
		ctx, cancel := context.WithTimeout(l.io, l.timeout)
		url, err := l.dir.Locate(ctx, holder)
		cancel()
		if err != nil {
			return "", err
		}
		l.urlOf, l.holderURL = holder, url
	}
	return l.holderURL, nil
}
