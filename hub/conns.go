package hub

import (
	"sync"
	"sync/atomic"
)

// connSet is the sockets this process serves: revocations look for the
// ones a token names, Close wakes them all and waits for them, and
// /metrics sums their queues. Safe for concurrent use.
type connSet struct {
	closing *atomic.Bool // the node's: no socket is begun or added once it is set
	metrics *metrics

	mu sync.Mutex
	m  map[*conn]struct{}
	wg sync.WaitGroup // one per upgrade begun and not yet done
}

// begin counts an upgrade about to be served, unless the hub is closing.
// The check and the count are made under mu, which Close takes (all)
// after setting closing, so wait never races a count from zero.
func (s *connSet) begin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	s.wg.Add(1)
	return true
}

// done ends what begin counted.
func (s *connSet) done() { s.wg.Done() }

// wait returns once every upgrade begun is done; call it after closing
// is set and all has run.
func (s *connSet) wait() { s.wg.Wait() }

// add registers c unless the hub is closing. Close sets closing before
// it takes mu (all), so a socket added here is one Close wakes.
func (s *connSet) add(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	if s.m == nil {
		s.m = make(map[*conn]struct{})
	}
	s.m[c] = struct{}{}
	s.metrics.conns.Add(1)
	return true
}

// remove unregisters c.
func (s *connSet) remove(c *conn) {
	s.mu.Lock()
	delete(s.m, c)
	s.mu.Unlock()
	s.metrics.conns.Add(-1)
}

// matching returns the sockets for which hit is true; hit runs under the
// set's lock, so it must not block.
func (s *connSet) matching(hit func(*conn) bool) []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*conn
	for c := range s.m {
		if hit(c) {
			out = append(out, c)
		}
	}
	return out
}

// all returns every socket.
func (s *connSet) all() []*conn {
	return s.matching(func(*conn) bool { return true })
}

// queuedBytes sums what waits in every connection's send queue. It is
// read at scrape time, so sending a frame costs no shared counter.
func (s *connSet) queuedBytes() int64 {
	var n int64
	for _, c := range s.all() {
		q, _ := c.out.state()
		n += int64(q)
	}
	return n
}
