package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/collabedit/collab/eventlog"
)

// Health reports whether the store can serve reads and writes, for a
// readiness endpoint: nil, or an error joining every problem found, each
// wrapping ErrUnavailable: the writer's batch running longer than
// StallAfter (*StallError); the last write transaction failed less than
// StallAfter ago and none has committed since; the session connection
// lost (the process lock not held); a read that fails or does not answer
// within ctx and ReadTimeout. It never queues behind the writer.
func (s *Store) Health(ctx context.Context) error {
	if err := s.checkOpen("health"); err != nil {
		return err
	}
	var errs []error
	if age := s.q.BatchAge(time.Now()); age > s.stallAfter {
		errs = append(errs, &eventlog.StallError{For: age})
	}
	if at, err := s.q.LastFailure(); err != nil && time.Since(at) < s.stallAfter {
		errs = append(errs, fmt.Errorf("last write failed %.1fs ago and none has succeeded since: %w", time.Since(at).Seconds(), err))
	}
	if s.session != nil {
		if err := s.session.err(); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := s.LastSeq(ctx); err != nil {
		if !errors.Is(err, eventlog.ErrUnavailable) && !errors.Is(err, eventlog.ErrClosed) {
			err = fmt.Errorf("%w: %w", eventlog.ErrUnavailable, err)
		}
		errs = append(errs, fmt.Errorf("health: read: %w", err))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("event log unhealthy: %w", errors.Join(errs...))
}
