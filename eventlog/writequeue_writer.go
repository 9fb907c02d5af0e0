package eventlog

import (
	"fmt"
	"time"
)

// The writer's side of WriteQueue: one goroutine loops on Next, commits
// the batch its own way, and calls Answer.

// Next waits for a request and returns it in batch[:0] with whatever else
// is queued, up to MaxBatch, and marks the batch started (Stats.BatchAge).
// Once the queue is closed and drained it wakes the callers waiting for
// room (they then see ErrClosed), answers the appends that raced with
// Close, and returns false: the writer exits.
func (q *WriteQueue) Next(batch []WriteRequest) ([]WriteRequest, bool) {
	r, ok := <-q.ch
	if !ok {
		q.wakeRoomWaiters()
		q.answerLate()
		return batch[:0], false
	}
	// The batch's age includes whatever the store waits for before its
	// transaction (another process's writer lock, a connection).
	q.batchStart.Store(time.Now().UnixNano())
	return q.Fill(append(batch[:0], r)), true
}

// Fill adds whatever is queued to batch, up to MaxBatch, without waiting.
func (q *WriteQueue) Fill(batch []WriteRequest) []WriteRequest {
	for len(batch) < q.cfg.MaxBatch {
		select {
		case r, ok := <-q.ch:
			if !ok {
				return batch
			}
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// Answer ends the batch: it returns the batch's bytes and appends to the
// queue's budget just before they are answered (so a callback that looks
// at Stats sees itself answered), wakes callers waiting for room, and
// invokes the callbacks in queue order, which is call order for any one
// goroutine. It clears batch, dropping payload and closure references
// until reuse.
func (q *WriteQueue) Answer(batch []WriteRequest, results []WriteResult) {
	q.batchStart.Store(0)
	var bytes, appends int64
	for i := range batch {
		bytes += batch[i].size
		if batch[i].Kind == WriteAppend {
			appends++
		}
	}
	q.queuedBytes.Add(-bytes)
	q.queuedAppends.Add(-appends)
	q.wakeRoomWaiters()
	for i := range batch {
		switch r := &batch[i]; r.Kind {
		case WriteAppend:
			r.done(results[i].Event, results[i].Err)
		case WriteSnapshot:
			if r.snapDone != nil {
				r.snapDone(results[i].Err)
			} else if results[i].Err != nil {
				q.cfg.Log.Warn().Err(results[i].Err).Msg("snapshot not stored")
			}
		case WriteCall:
			r.call()
		}
	}
	clear(batch)
}

// FailAll sets err, with each request's operation, as the result of every
// append and snapshot of batch: nothing of its transaction was stored.
func (q *WriteQueue) FailAll(batch []WriteRequest, results []WriteResult, err error) []WriteResult {
	for i := range batch {
		switch r := &batch[i]; r.Kind {
		case WriteAppend:
			results[i] = WriteResult{r.Event, fmt.Errorf("append doc %q version %d: %w", r.Event.Doc, r.Event.Version, err)}
		case WriteSnapshot:
			results[i] = WriteResult{Err: fmt.Errorf("put snapshot doc %q version %d: %w", r.Snapshot.Doc, r.Snapshot.Version, err)}
		}
	}
	return results
}

// Committed records a committed transaction of requests requests that
// stored events events and refused conflicts and duplicates appends.
func (q *WriteQueue) Committed(requests int, events, conflicts, duplicates int64) {
	q.lastCommit.Store(time.Now().UnixNano())
	q.lastFailure.Store(nil)
	q.commits.Add(1)
	q.events.Add(events)
	q.conflicts.Add(conflicts)
	q.duplicates.Add(duplicates)
	if n := int64(requests); n > q.maxSeen.Load() {
		q.maxSeen.Store(n) // only the writer stores, so load+store is race-free
	}
}

// Failed records a transaction that failed with err (Stats.Failures);
// LastFailure reports it until one commits.
func (q *WriteQueue) Failed(err error) {
	q.failures.Add(1)
	q.lastFailure.Store(&failure{err: err, at: time.Now()})
}

// answerLate rejects appends that raced with Close, after everything that
// was queued before Close has been answered.
func (q *WriteQueue) answerLate() {
	for {
		q.lateMu.Lock()
		late := q.late
		q.late = nil
		if len(late) == 0 {
			q.writerExited = true
		}
		q.lateMu.Unlock()
		if len(late) == 0 {
			return
		}
		for _, r := range late {
			r.done(r.Event, fmt.Errorf("append doc %q version %d: %w", r.Event.Doc, r.Event.Version, ErrClosed))
		}
	}
}
