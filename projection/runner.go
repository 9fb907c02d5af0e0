package projection

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// runner is one registered projection's state. The loop goroutine owns
// the generations; mu guards what Stats reads while the loop writes it.
type runner struct {
	p   Projection
	log zerolog.Logger

	mu       sync.Mutex
	serving  *gen
	building *gen // nil unless rebuilding
	lastErr  string
	pending  time.Time // time of the oldest event fetched and not yet applied
	retryAt  time.Time // after a failed batch, no attempt before this

	applied atomic.Int64 // events applied (or skipped) since Open, every generation
	dead    atomic.Int64 // dead letters recorded, all time
}

// gens returns the generations the loop feeds: serving, then building.
func (r *runner) gens() []*gen {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*gen, 0, 2)
	if r.serving != nil {
		out = append(out, r.serving)
	}
	if r.building != nil {
		out = append(out, r.building)
	}
	return out
}

func (r *runner) setErr(err error, retryAt time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retryAt = retryAt
	if err != nil {
		r.lastErr = err.Error()
	}
}
