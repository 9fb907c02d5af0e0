package projection

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ReadFunc reads a projection's serving generation: tx is a read-only
// transaction (one consistent snapshot of the read-model database), t
// names the tables, pos says which event the snapshot reflects.
type ReadFunc func(ctx context.Context, tx *sql.Tx, t Tables, pos Position) error

// Read runs fn on the serving generation of the named projection, in a
// read transaction on the read pool: it never waits for the projector's
// writes, and a swap after a rebuild happens entirely before or after it.
func (pr *Projector) Read(ctx context.Context, name string, fn ReadFunc) error {
	if pr.byName[name] == nil {
		return fmt.Errorf("%w: %q", ErrUnknownProjection, name)
	}
	if !pr.open.Load() {
		return ErrClosed
	}
	tx, err := pr.rdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("projection: read %s: begin: %w", name, err)
	}
	defer func() { _ = tx.Rollback() }()
	t := Tables{Projection: name}
	var seq int64
	// The first read of the transaction fixes its snapshot.
	err = tx.QueryRowContext(ctx, `SELECT generation, seq FROM projector_checkpoints
		WHERE name = ? AND serving = 1`, name).Scan(&t.Generation, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %q has no serving generation", ErrUnknownProjection, name)
	}
	if err != nil {
		return fmt.Errorf("projection: read %s: checkpoint: %w", name, err)
	}
	pos, err := pr.position(ctx, seq)
	if err != nil {
		return fmt.Errorf("projection: read %s: %w", name, err)
	}
	return fn(ctx, tx, t, pos)
}

// position measures the log's head against seq: lag in events, and in
// time since the oldest event not applied yet.
func (pr *Projector) position(ctx context.Context, seq int64) (Position, error) {
	head, err := pr.log.LastSeq(ctx)
	if err != nil {
		return Position{}, fmt.Errorf("log head: %w", err)
	}
	pos := Position{Seq: seq, Head: head, LagEvents: max(0, head-seq)}
	if pos.LagEvents == 0 {
		return pos, nil
	}
	evs, err := pr.log.Since(ctx, seq, 1)
	if err != nil {
		return Position{}, fmt.Errorf("oldest pending event: %w", err)
	}
	if len(evs) > 0 {
		pos.Lag = max(0, time.Since(evs[0].Time))
		pos.LagSeconds = pos.Lag.Seconds()
	}
	return pos, nil
}
