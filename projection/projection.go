package projection

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/collabedit/collab/eventlog"
)

// Projection is one read model built from the event log: its own tables,
// fed the log's events in global-sequence order, in batches, each batch in
// the same transaction as the projection's checkpoint, so that a batch is
// applied exactly once even across crashes.
type Projection interface {
	// Name names the projection ("docs", "search", "authorship"); it
	// prefixes its tables and keys its checkpoint. [a-z0-9_]+.
	Name() string
	// Version is the layout of its tables and the meaning of its rows.
	// When it changes, the projector rebuilds the projection from the log
	// into fresh tables while the old ones keep serving, and swaps them in
	// once caught up (live rebuild).
	Version() int
	// Create makes the projection's tables, named through t, in tx.
	Create(ctx context.Context, tx *sql.Tx, t Tables) error
	// Apply applies evs (consecutive in global sequence, schema current:
	// upcast already) in tx. An error for one event is a *EventError so the
	// projector can record it as a dead letter; any other error fails the
	// batch, which is retried.
	Apply(ctx context.Context, tx *sql.Tx, t Tables, evs []eventlog.Event) error
}

// Tables names a projection's tables in one generation: a rebuild writes a
// new generation beside the serving one.
type Tables struct {
	Projection string
	Generation int
}

// Name returns the SQL name of the projection's table base in this
// generation, e.g. "search_docs_g2".
func (t Tables) Name(base string) string {
	return fmt.Sprintf("%s_%s_g%d", t.Projection, base, t.Generation)
}

// EventError is an event a projection cannot handle. The projector records
// it as a dead letter and, as configured, skips it or stops the projection.
type EventError struct {
	Seq int64
	Err error
}

func (e *EventError) Error() string { return fmt.Sprintf("projection: event %d: %v", e.Seq, e.Err) }
func (e *EventError) Unwrap() error { return e.Err }

// Position is where a projection stands: the last event it applied, and
// how far behind the log it is. Every read-model answer carries it.
type Position struct {
	Seq        int64         `json:"seq"`        // last event applied (global sequence)
	Head       int64         `json:"head"`       // last event in the log when measured
	LagEvents  int64         `json:"lagEvents"`  // Head - Seq
	LagSeconds float64       `json:"lagSeconds"` // age of the oldest event not yet applied; 0 when caught up
	Lag        time.Duration `json:"-"`
}
