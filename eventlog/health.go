package eventlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// sqlHealth is Health's read: max() of the rowid is one seek to the last
// leaf page of the events table, however long the log.
const sqlHealth = `SELECT max(seq) FROM events`

// Health reports whether the store can serve reads and writes, for a
// readiness endpoint: nil, or an error that joins every problem found,
// each wrapping ErrUnavailable:
//
//   - *StallError: the writer's current batch has run longer than
//     Config.StallAfter (blocked in write or fsync, or behind another
//     process holding the writer lock);
//   - the last write transaction failed (ErrUnavailable, or ErrDiskFull
//     for SQLITE_FULL) less than StallAfter ago and none has committed
//     since; the cause is included;
//   - *DiskFullError: free space is below the reserve (MinFreeBytes);
//   - the read through the read pool failed or did not answer in time.
//
// The writer's state is read from memory, never by queueing behind the
// writer. The read and the free-space check run on a goroutine of the
// Store, shared by concurrent callers, because a read can sleep in the
// kernel on a frozen filesystem where no context reaches it; Health returns
// when ctx ends even then. After Close it returns ErrClosed.
func (s *Store) Health(ctx context.Context) error {
	if err := s.checkOpen("health"); err != nil {
		return err
	}
	var errs []error
	if age := s.q.BatchAge(time.Now()); age > s.stallAfter {
		errs = append(errs, &StallError{For: age})
	}
	if at, err := s.q.LastFailure(); err != nil && time.Since(at) < s.stallAfter {
		errs = append(errs, fmt.Errorf("last write failed %.1fs ago and none has succeeded since: %w", time.Since(at).Seconds(), err))
	}
	if err := s.probeOnce(ctx); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("event log unhealthy: %w", errors.Join(errs...))
}

// failure is the last failed write transaction. Health reports it for
// StallAfter only: a readiness check that kept an instance out of its
// load balancer until the next write succeeded would never get one. A
// disk that stays full or stuck is still reported, by the reserve and
// stall checks; one that fails every write is reported again at the next
// write.
type failure struct {
	err error
	at  time.Time
}

// probeState runs at most one health probe at a time; Close waits for it.
type probeState struct {
	mu      sync.Mutex
	stopped bool
	running *probeCall
	wg      sync.WaitGroup
}

type probeCall struct {
	done chan struct{}
	err  error // set before done closes
}

// probeOnce waits, until ctx ends, for the probe in flight or a new one.
func (s *Store) probeOnce(ctx context.Context) error {
	p := &s.probe
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return fmt.Errorf("health: %w", ErrClosed)
	}
	call := p.running
	if call == nil {
		call = &probeCall{done: make(chan struct{})}
		p.running = call
		p.wg.Add(1)
		go s.runProbe(call)
	}
	p.mu.Unlock()
	start := time.Now()
	select {
	case <-call.done:
		return call.err
	case <-ctx.Done():
		return fmt.Errorf("health: the read did not answer within %.1fs: %w: %w", time.Since(start).Seconds(), ErrUnavailable, ctx.Err())
	}
}

// runProbe reads through the read pool and checks the free space.
func (s *Store) runProbe(call *probeCall) {
	defer s.probe.wg.Done()
	var seq sql.NullInt64
	if err := s.qHealth.QueryRowContext(context.Background()).Scan(&seq); err != nil {
		call.err = s.readErr("health: read", err)
		if !errors.Is(call.err, ErrUnavailable) && !errors.Is(call.err, ErrClosed) {
			call.err = fmt.Errorf("%w: %w", ErrUnavailable, call.err)
		}
	} else {
		call.err = s.checkReserve()
	}
	s.probe.mu.Lock()
	s.probe.running = nil
	s.probe.mu.Unlock()
	close(call.done)
}

// stopProbes refuses new probes and waits for the one in flight.
func (s *Store) stopProbes() {
	s.probe.mu.Lock()
	s.probe.stopped = true
	s.probe.mu.Unlock()
	s.probe.wg.Wait()
}
