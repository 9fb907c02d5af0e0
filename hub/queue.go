package hub

import (
	"sync"
	"time"
)

// sendQueue is one connection's outgoing frames, bounded in bytes. push
// never blocks: the broadcaster (a document goroutine) must not wait on a
// slow socket. Frames are shared, read-only byte slices (encoded once per
// broadcast), so queueing one is a pointer copy.
type sendQueue struct {
	mu     sync.Mutex
	frames [][]byte
	bytes  int
	limit  int
	since  time.Time // when the oldest queued frame was queued
	closed bool
	// close reason, read by the writer once closed is set
	code   int
	reason string
	flush  bool          // send what is queued before the close frame
	wake   chan struct{} // capacity 1: "something changed"
	// The writer runs only while there is something to write (an idle
	// socket then holds no writer stack): running says whether it exists,
	// and is set, with writers.Add, under mu by whoever queues work for a
	// stopped writer; that caller then starts it. Once closed, no new
	// writer starts after the one that sends the close frame.
	running bool
	pingDue bool
	writers *sync.WaitGroup
	start   func() // go the writer
}

func newSendQueue(limit int, writers *sync.WaitGroup, start func()) *sendQueue {
	return &sendQueue{limit: limit, wake: make(chan struct{}, 1), writers: writers, start: start}
}

// wantWriterLocked marks the writer running if it is not and reports
// whether the caller must start it (after unlocking).
func (q *sendQueue) wantWriterLocked() bool {
	if q.running {
		return false
	}
	q.running = true
	q.writers.Add(1)
	return true
}

// push queues a frame. It reports false when the queue is closed or the
// frame would take it past its limit; in the latter case the queue closes
// itself with the slow-consumer code. A frame larger than the limit is
// still accepted into an empty queue so a maximal snapshot can be sent.
func (q *sendQueue) push(frame []byte, slowCode int) (ok, overflow bool) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false, false
	}
	if q.bytes > 0 && q.bytes+len(frame) > q.limit {
		q.closeLocked(slowCode, "send queue over limit: reopen with your last version to catch up", false)
		start := q.wantWriterLocked()
		q.mu.Unlock()
		q.startIf(start)
		return false, true
	}
	if len(q.frames) == 0 {
		q.since = time.Now() // one clock read per batch, not per frame
	}
	q.frames = append(q.frames, frame)
	q.bytes += len(frame)
	start := q.wantWriterLocked()
	q.mu.Unlock()
	q.startIf(start)
	q.signal()
	return true, false
}

// ping asks the writer to send a WebSocket ping.
func (q *sendQueue) ping() {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.pingDue = true
	start := q.wantWriterLocked()
	q.mu.Unlock()
	q.startIf(start)
	q.signal()
}

func (q *sendQueue) startIf(start bool) {
	if start {
		q.start()
	}
}

// park stops the writer if there is still nothing to do, and reports
// whether it did; the writer must then return.
func (q *sendQueue) park() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.frames) > 0 || q.pingDue || q.closed {
		return false
	}
	q.running = false
	q.writers.Done()
	return true
}

// close stops the queue. With flush the writer first sends what is queued.
// The first close wins; it reports whether this call was it.
func (q *sendQueue) close(code int, reason string, flush bool) bool {
	q.mu.Lock()
	first := q.closeLocked(code, reason, flush)
	start := first && q.wantWriterLocked() // someone must send the close frame
	q.mu.Unlock()
	q.startIf(start)
	return first
}

func (q *sendQueue) closeLocked(code int, reason string, flush bool) bool {
	if q.closed {
		return false
	}
	q.closed, q.code, q.reason, q.flush = true, code, reason, flush
	if !flush {
		q.frames, q.bytes = nil, 0
	}
	q.signal()
	return true
}

func (q *sendQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take hands the writer everything queued, swapping in spare (a drained
// slice from the previous round) to avoid an allocation per batch.
func (q *sendQueue) take(spare [][]byte) (frames [][]byte, since time.Time, ping, closed bool) {
	q.mu.Lock()
	since = q.since
	frames, q.frames = q.frames, spare[:0]
	q.bytes = 0
	ping, q.pingDue = q.pingDue, false
	closed = q.closed
	q.mu.Unlock()
	return frames, since, ping, closed
}

func (q *sendQueue) closeReason() (int, string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.code, q.reason
}

// queued is the number of bytes waiting.
func (q *sendQueue) queued() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.bytes
}

func (q *sendQueue) isClosed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}
