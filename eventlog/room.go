package eventlog

import (
	"context"
	"errors"
)

// The blocking calls (Append, PutSnapshot, Pragmas) wait for room in a
// full queue instead of answering ErrBusy. The writer wakes them after
// each batch it answers, but only when someone waits: the common case
// costs the writer one atomic load per batch.

// enqueueWait is enqueue that waits for room until ctx ends. It returns
// nil, ErrClosed, or ctx.Err(); never ErrBusy.
func (s *Store) enqueueWait(ctx context.Context, r request) error {
	for {
		err := s.enqueue(r)
		if !errors.Is(err, ErrBusy) {
			return err
		}
		// Register before the retry: a batch answered after the retry
		// then sees a waiter and closes the channel taken here (or a later
		// one, after closing this one), so no wake-up is lost.
		s.roomWaiters.Add(1)
		s.roomMu.Lock()
		room := s.roomCh
		s.roomMu.Unlock()
		if err = s.enqueue(r); !errors.Is(err, ErrBusy) {
			s.roomWaiters.Add(-1)
			return err
		}
		select {
		case <-room:
			s.roomWaiters.Add(-1)
		case <-ctx.Done():
			s.roomWaiters.Add(-1)
			return ctx.Err()
		}
	}
}

// wakeRoomWaiters is called by the writer after it answered a batch (and
// released its queue bytes), and when it exits so waiters see ErrClosed.
func (s *Store) wakeRoomWaiters() {
	if s.roomWaiters.Load() == 0 {
		return
	}
	s.roomMu.Lock()
	close(s.roomCh)
	s.roomCh = make(chan struct{})
	s.roomMu.Unlock()
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
