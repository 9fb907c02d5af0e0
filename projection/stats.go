package projection

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// State is what a projection is doing.
type State string

// The states a projection reports in Stats.
const (
	Running    State = "running"    // following the log
	Rebuilding State = "rebuilding" // building a new generation beside the serving one
	Stopped    State = "stopped"    // stopped on a dead letter (OnError Stop)
)

// Stats describe one projection, for metrics, /readyz and tests.
type Stats struct {
	Name       string
	Version    int   // the registered projection's Version
	Generation int   // serving generation
	State      State // running, rebuilding or stopped
	Seq        int64 // last event applied by the serving generation
	// BuildGeneration and BuildSeq describe a rebuild in progress (0 if none).
	BuildGeneration int
	BuildSeq        int64
	Head            int64   // the log's last seq when the projector last looked
	LagEvents       int64   // Head - Seq
	LagSeconds      float64 // age of the oldest event fetched and not yet applied
	Applied         int64   // events applied or skipped since Open, every generation
	DeadLetters     int64   // dead letters recorded, all time
	LastError       string  // the last failure or dead letter, "" if none
}

// Stats returns every registered projection's stats, in registration
// order. It reads memory only.
func (pr *Projector) Stats() []Stats {
	head := pr.head.Load()
	out := make([]Stats, 0, len(pr.runners))
	for _, r := range pr.runners {
		out = append(out, r.stats(head))
	}
	return out
}

func (r *runner) stats(head int64) Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Stats{Name: r.p.Name(), Version: r.p.Version(), State: Running, Head: head,
		Applied: r.applied.Load(), DeadLetters: r.dead.Load(), LastError: r.lastErr}
	if g := r.serving; g != nil {
		s.Generation, s.Seq = g.t.Generation, g.seq
		s.LagEvents = max(0, head-g.seq)
		if g.stopped {
			s.State = Stopped
		}
	}
	if b := r.building; b != nil {
		s.BuildGeneration, s.BuildSeq = b.t.Generation, b.seq
		if s.State == Running {
			s.State = Rebuilding
		}
	}
	if s.LagEvents > 0 && !r.pending.IsZero() {
		s.LagSeconds = max(0, time.Since(r.pending).Seconds())
	}
	return s
}

// Health is for /readyz: an error naming each projection stopped on a
// dead letter, nil otherwise. Lag alone is not a failure.
func (pr *Projector) Health(ctx context.Context) error {
	if !pr.open.Load() {
		return ErrClosed
	}
	var errs []error
	for _, r := range pr.runners {
		r.mu.Lock()
		stopped := r.serving != nil && r.serving.stopped || r.building != nil && r.building.stopped
		msg := r.lastErr
		r.mu.Unlock()
		if stopped {
			errs = append(errs, fmt.Errorf("projection %s: %s", r.p.Name(), msg))
		}
	}
	return errors.Join(errs...)
}
