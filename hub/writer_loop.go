package hub

import (
	"time"

	"github.com/gorilla/websocket"
)

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
