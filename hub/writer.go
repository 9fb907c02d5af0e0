package hub

import (
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// writerLinger is how long an idle writer waits for more before it exits.
// An idle socket then holds no writer goroutine (about 4 KB of stack, a
// fifth of its memory); a busy one keeps its writer, since typing sends
// far more often than once a second.
const writerLinger = time.Second

// writer owns one socket's outgoing side: the send queue, bounded in
// bytes, the frame writer and the goroutine that drains them. push never
// blocks: the broadcaster (a document goroutine) must not wait on a slow
// socket. Frames are shared, read-only byte slices (encoded once per
// broadcast), so queueing one is a pointer copy.
//
// The goroutine runs only while there is something to write (frames, a
// due ping, the close frame): running says whether it exists, and is set,
// with wg.Add, under mu by whoever queues work for a stopped writer; that
// caller then starts it. Once closed, no new goroutine starts after the
// one that sends the close frame. wg is touched nowhere else.
type writer struct {
	ws       *websocket.Conn
	timeout  time.Duration // Config.WriteTimeout, per batch
	interval time.Duration // Config.PingInterval
	pinger   *time.Timer   // queues a ping every interval; re-armed after each
	m        *metrics
	frames   frameWriter // the goroutine only
	onFail   func(error) // a write failed: the connection must end

	mu      sync.Mutex
	queue   [][]byte
	bytes   int
	limit   int
	since   time.Time // when the oldest queued frame was queued
	closed  bool
	code    int // close reason, read by the goroutine once closed is set
	reason  string
	flush   bool          // send what is queued before the close frame
	wake    chan struct{} // capacity 1: "something changed"
	running bool
	pingDue bool
	wg      sync.WaitGroup
}

func newWriter(ws *websocket.Conn, cfg *Config, m *metrics, onFail func(error)) *writer {
	w := &writer{ws: ws, timeout: cfg.WriteTimeout, interval: cfg.PingInterval, m: m, onFail: onFail,
		limit: cfg.MaxQueueBytes, wake: make(chan struct{}, 1)}
	w.pinger = time.AfterFunc(cfg.PingInterval, w.ping)
	return w
}

// startLocked marks the goroutine running if it is not and reports
// whether the caller must start it, after unlocking.
func (w *writer) startLocked() bool {
	if w.running {
		return false
	}
	w.running = true
	w.wg.Add(1)
	return true
}

// unlock releases mu, starts the goroutine if start, and wakes it.
func (w *writer) unlock(start bool) {
	w.mu.Unlock()
	if start {
		go w.run()
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// push queues a frame. It reports false when the queue is closed or the
// frame would take it past its limit; in the latter case the queue closes
// itself with slowCode. A frame larger than the limit is still accepted
// into an empty queue so a maximal snapshot can be sent.
func (w *writer) push(frame []byte, slowCode int) (ok, overflow bool) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return false, false
	}
	if w.bytes > 0 && w.bytes+len(frame) > w.limit {
		w.closeLocked(slowCode, "send queue over limit: reopen with your last version to catch up", false)
		w.unlock(w.startLocked())
		return false, true
	}
	if len(w.queue) == 0 {
		w.since = time.Now() // one clock read per batch, not per frame
	}
	w.queue = append(w.queue, frame)
	w.bytes += len(frame)
	w.unlock(w.startLocked())
	return true, false
}

// ping asks the goroutine to send a WebSocket ping.
func (w *writer) ping() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.pingDue = true
	w.unlock(w.startLocked())
}

// close stops the queue. With flush the goroutine first sends what is
// queued. The first close wins; it reports whether this call was it.
func (w *writer) close(code int, reason string, flush bool) bool {
	w.mu.Lock()
	first := w.closeLocked(code, reason, flush)
	w.unlock(first && w.startLocked()) // someone must send the close frame
	return first
}

func (w *writer) closeLocked(code int, reason string, flush bool) bool {
	if w.closed {
		return false
	}
	w.closed, w.code, w.reason, w.flush = true, code, reason, flush
	if !flush {
		w.queue, w.bytes = nil, 0
	}
	return true
}

// wait waits for the goroutine, which exits after the close frame, then
// stops the ping timer (stopped first, a ping being sent could re-arm it).
func (w *writer) wait() {
	w.wg.Wait()
	w.pinger.Stop()
}

// closeReason is the code and reason of the close frame.
func (w *writer) closeReason() (int, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.code, w.reason
}

// state reports the bytes waiting and whether the queue is closed.
func (w *writer) state() (queued int, closed bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.bytes, w.closed
}

// run is the socket's only writer: it sends queued frames in batches,
// pings, and finally the close frame. It exits after writerLinger with
// nothing to do, or after the close frame.
func (w *writer) run() {
	parked := false
	defer func() {
		if !parked {
			w.wg.Done()
		}
	}()
	idle := time.NewTimer(writerLinger)
	defer idle.Stop()
	var spare [][]byte
	for {
		frames, since, ping, closed := w.take(spare)
		if ping {
			if err := w.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(w.timeout)); err != nil {
				w.fail(err)
				return
			}
			w.pinger.Reset(w.interval)
		}
		if err := w.write(frames); err != nil {
			w.fail(err)
			return
		}
		if len(frames) > 0 {
			w.m.delivery.observe(time.Since(since))
		}
		n := len(frames)
		clear(frames)
		spare = frames
		if closed {
			code, reason := w.closeReason()
			msg := websocket.FormatCloseMessage(code, reason)
			_ = w.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(w.timeout))
			return
		}
		if n > 0 || ping {
			continue // more may have been queued meanwhile
		}
		idle.Reset(writerLinger)
		select {
		case <-w.wake:
		case <-idle.C:
			if parked = w.park(); parked {
				return
			}
		}
	}
}

// take hands the goroutine everything queued, swapping in spare (a
// drained slice from the previous round) to avoid an allocation per batch.
func (w *writer) take(spare [][]byte) (frames [][]byte, since time.Time, ping, closed bool) {
	w.mu.Lock()
	since = w.since
	frames, w.queue = w.queue, spare[:0]
	w.bytes = 0
	ping, w.pingDue = w.pingDue, false
	closed = w.closed
	w.mu.Unlock()
	return frames, since, ping, closed
}

// park stops the goroutine if there is still nothing to do, and reports
// whether it did; it must then return.
func (w *writer) park() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) > 0 || w.pingDue || w.closed {
		return false
	}
	w.running = false
	w.wg.Done()
	return true
}

// write sends a batch with one system call.
func (w *writer) write(frames [][]byte) error {
	if len(frames) == 0 {
		return nil
	}
	// The deadline goes on the net.Conn itself: frames bypass gorilla's
	// writer, and gorilla's SetWriteDeadline only records a field that its
	// own writes apply. Set that way, the only deadline the socket ever got
	// was the one the first ping set, so every busy socket was dropped
	// PingInterval+WriteTimeout (35 s) after it connected.
	nc := w.ws.NetConn()
	if err := nc.SetWriteDeadline(time.Now().Add(w.timeout)); err != nil {
		return err
	}
	if _, err := w.frames.write(nc, frames); err != nil {
		return err
	}
	w.m.framesSent.Add(uint64(len(frames)))
	return nil
}

// fail ends a socket whose write failed: the queue stops accepting and
// the connection is told, so its reader wakes and serve cleans up.
func (w *writer) fail(err error) {
	w.close(websocket.CloseAbnormalClosure, "", false)
	w.onFail(err)
}
