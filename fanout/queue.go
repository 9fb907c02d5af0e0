package fanout

import (
	"errors"
	"sync"
)

// queueLen bounds each subscription's backlog. At ~1000 events/s on a busy
// document it is about one second of slack before the subscriber falls
// back to reading the log, and at most ~1 MB with 1 KB messages.
const queueLen = 1024

// ErrClosed is returned by Publish and Subscribe after Close.
var ErrClosed = errors.New("fanout: bus closed")

// sub is one subscription: a bounded queue drained by its own goroutine,
// which calls fn. A nil entry in items is a resync marker, delivered as
// fn(nil).
type sub struct {
	fn  func(msg []byte)
	max int

	mu    sync.Mutex
	items [][]byte
	lost  bool // a message was dropped since the last marker was queued

	wake chan struct{} // capacity 1: "items changed"
	stop chan struct{} // closed by stopAndWait
	done chan struct{} // closed when run returns
	once sync.Once
}

func newSub(fn func([]byte), max int) *sub {
	return &sub{
		fn:   fn,
		max:  max,
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
}

// push queues msg, or drops it when the queue holds max messages, in which
// case the subscriber gets fn(nil) once it has drained the queue. It
// reports whether this push started a loss (for logging once per episode,
// not once per dropped message). It never blocks on fn.
func (s *sub) push(msg []byte) (startedLoss bool) {
	s.mu.Lock()
	if len(s.items) >= s.max {
		startedLoss = !s.lost
		s.lost = true
		s.mu.Unlock()
		return startedLoss
	}
	if s.lost {
		// Order the marker before the newer message: the subscriber
		// resyncs from the log, then continues with live messages.
		s.items = append(s.items, nil)
		s.lost = false
	}
	s.items = append(s.items, msg)
	s.mu.Unlock()
	s.signal()
	return false
}

// resync queues a fn(nil), collapsing it into one already waiting at the
// tail. Markers may exceed max by one per queued message, so the queue is
// still bounded (at most 2*max+1 entries).
func (s *sub) resync() {
	s.mu.Lock()
	if n := len(s.items); n == 0 || s.items[n-1] != nil {
		s.items = append(s.items, nil)
	}
	s.mu.Unlock()
	s.signal()
}

func (s *sub) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// pop takes the next entry; ok is false when there is none. A pending loss
// with an empty queue becomes a marker here, so a subscriber that
// overflowed and then hears nothing more still gets its fn(nil).
func (s *sub) pop() (msg []byte, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.items) > 0 {
		msg = s.items[0]
		s.items[0] = nil // let the GC have the payload
		s.items = s.items[1:]
		return msg, true
	}
	if s.lost {
		s.lost = false
		return nil, true
	}
	return nil, false
}

func (s *sub) start() { go s.run() }

// run is the subscription's dispatcher goroutine.
func (s *sub) run() {
	defer close(s.done)
	for {
		select {
		case <-s.stop:
			return
		case <-s.wake:
		}
		for {
			select {
			case <-s.stop:
				return
			default:
			}
			msg, ok := s.pop()
			if !ok {
				break
			}
			s.fn(msg)
		}
	}
}

// stopAndWait ends the dispatcher and waits for a running fn to return.
// It must not be called from fn (it would wait for itself).
func (s *sub) stopAndWait() {
	s.once.Do(func() { close(s.stop) })
	<-s.done
}
