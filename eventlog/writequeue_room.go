package eventlog

import (
	"context"
	"errors"
)

// The blocking calls (Append, PutSnapshot, the SQLite store's Pragmas)
// wait for room in a full queue instead of answering ErrBusy. The writer
// wakes them after each batch it answers, but only when someone waits:
// the common case costs the writer one atomic load per batch.

// enqueueWait is enqueue that waits for room until ctx ends. It returns
// nil, ErrClosed, or ctx.Err(); never ErrBusy.
func (q *WriteQueue) enqueueWait(ctx context.Context, r WriteRequest) error {
	for {
		err := q.enqueue(r)
		if !errors.Is(err, ErrBusy) {
			return err
		}
		// Register before the retry: a batch answered after the retry
		// then sees a waiter and closes the channel taken here (or a later
		// one, after closing this one), so no wake-up is lost.
		q.roomWaiters.Add(1)
		q.roomMu.Lock()
		room := q.roomCh
		q.roomMu.Unlock()
		if err = q.enqueue(r); !errors.Is(err, ErrBusy) {
			q.roomWaiters.Add(-1)
			return err
		}
		select {
		case <-room:
			q.roomWaiters.Add(-1)
		case <-ctx.Done():
			q.roomWaiters.Add(-1)
			return ctx.Err()
		}
	}
}

// wakeRoomWaiters is called by the writer after it answered a batch (and
// released its queue bytes), and when it exits so waiters see ErrClosed.
func (q *WriteQueue) wakeRoomWaiters() {
	if q.roomWaiters.Load() == 0 {
		return
	}
	q.roomMu.Lock()
	close(q.roomCh)
	q.roomCh = make(chan struct{})
	q.roomMu.Unlock()
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
