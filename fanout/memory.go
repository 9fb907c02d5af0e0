package fanout

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Memory is an in-process hub.Bus, the default when a single process
// serves every document. Publish copies msg into the queue of each current
// subscriber of the channel and returns without waiting for them; each
// subscriber's fn runs on its own goroutine, so a room that publishes
// never calls into itself.
type Memory struct {
	queueLen int // per-subscription backlog; a field so tests can shrink it

	mu     sync.RWMutex
	chans  map[string]map[*sub]struct{}
	closed bool
}

// NewMemory returns an empty in-process bus.
func NewMemory() *Memory {
	return &Memory{queueLen: queueLen, chans: make(map[string]map[*sub]struct{})}
}

// Publish queues a copy of msg for every current subscriber of channel.
// It fails only when ctx is done or the bus is closed.
func (m *Memory) Publish(ctx context.Context, channel string, msg []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fanout: publish %q: %w", channel, err)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return ErrClosed
	}
	for s := range m.chans[channel] {
		// A copy per subscriber: the caller may reuse msg, and one
		// subscriber must not see another's modifications.
		s.push(append(make([]byte, 0, len(msg)), msg...))
	}
	return nil
}

// Subscribe calls fn with each message published on channel from now on,
// from one goroutine, in publish order. The first call is fn(nil): the
// subscription is in effect. fn(nil) also follows messages dropped because
// fn fell more than 1024 messages behind. cancel stops the calls and waits
// for a running one to return; it must not be called from fn.
func (m *Memory) Subscribe(channel string, fn func(msg []byte)) (cancel func(), err error) {
	if fn == nil {
		return nil, errors.New("fanout: subscribe with nil fn")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	s := newSub(fn, m.queueLen)
	s.resync()
	s.start()
	subs := m.chans[channel]
	if subs == nil {
		subs = make(map[*sub]struct{})
		m.chans[channel] = subs
	}
	subs[s] = struct{}{}

	var once sync.Once
	return func() {
		once.Do(func() {
			m.mu.Lock()
			if subs := m.chans[channel]; subs != nil {
				delete(subs, s)
				if len(subs) == 0 {
					delete(m.chans, channel)
				}
			}
			m.mu.Unlock()
			s.stopAndWait()
		})
	}, nil
}

// Close stops every subscription, waiting for running calls to return,
// and makes later Publish and Subscribe calls fail with ErrClosed. It must
// not be called from a subscriber's fn.
func (m *Memory) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	chans := m.chans
	m.chans = make(map[string]map[*sub]struct{})
	m.mu.Unlock()
	for _, subs := range chans {
		for s := range subs {
			s.stopAndWait()
		}
	}
	return nil
}
