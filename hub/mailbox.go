package hub

import "sync"

// mailbox carries answers from other goroutines to a room: commit results
// from the store's writer, lease answers, presence lists. put never
// blocks, since the writer goroutine serves every document and a lease
// call's goroutine must be able to finish while its room is exiting; the
// room takes everything at once when wake fires.
type mailbox[T any] struct {
	mu    sync.Mutex
	items []T
	wake  chan struct{} // capacity 1: "something arrived"
}

func newMailbox[T any]() *mailbox[T] {
	return &mailbox[T]{wake: make(chan struct{}, 1)}
}

func (m *mailbox[T]) put(x T) {
	m.mu.Lock()
	m.items = append(m.items, x)
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// take returns everything put so far, swapping in buf (a drained slice
// from the previous call) to avoid an allocation per wake-up.
func (m *mailbox[T]) take(buf []T) []T {
	clear(buf)
	m.mu.Lock()
	buf, m.items = m.items, buf[:0]
	m.mu.Unlock()
	return buf
}
