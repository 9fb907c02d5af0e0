package projection

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/collabedit/collab/eventlog"
)

// errMoved: the checkpoint is not where this projector left it (another
// process on the same read-model file applied the batch, or swapped).
var errMoved = errors.New("checkpoint moved")

// deadLetter is an event a projection could not handle.
type deadLetter struct {
	ev  eventlog.Event
	err error
}

// applyBatch applies evs (consecutive, after g.seq) to g and moves its
// checkpoint to the last of them in the same transaction. An *EventError
// for an event of the batch rolls the transaction back; the batch is then
// applied again without that event (Skip) or only up to it (Stop), with
// the dead letter recorded in that same transaction.
func (pr *Projector) applyBatch(ctx context.Context, r *runner, g *gen, evs []eventlog.Event) error {
	var dead []deadLetter
	todo, stopAt := evs, int64(0)
	for {
		err := pr.inTx(ctx, func(tx *sql.Tx) error {
			return pr.commitBatch(ctx, tx, r, g, todo, dead, last(evs, stopAt, g.seq))
		})
		var ee *EventError
		if !errors.As(err, &ee) {
			if err != nil {
				return err
			}
			break
		}
		i := indexOf(todo, ee.Seq)
		if i < 0 {
			return fmt.Errorf("apply: error for event %d, not in the batch: %w", ee.Seq, err)
		}
		dead = append(dead, deadLetter{ev: todo[i], err: ee.Err})
		r.log.Warn().Err(ee.Err).Int64("seq", ee.Seq).Str("doc", todo[i].Doc).Int64("version", todo[i].Version).
			Int("generation", g.t.Generation).Msg("dead letter: projection cannot apply event")
		if pr.OnError == Stop {
			todo, stopAt = todo[:i], ee.Seq
			continue
		}
		todo = append(append(make([]eventlog.Event, 0, len(todo)-1), todo[:i]...), todo[i+1:]...)
	}
	to := last(evs, stopAt, g.seq)
	r.applied.Add(to - g.seq)
	r.mu.Lock()
	g.seq, g.stopped = to, stopAt != 0
	r.mu.Unlock()
	r.dead.Add(int64(len(dead)))
	if stopAt != 0 {
		r.setErr(fmt.Errorf("stopped on dead letter at seq %d: %w", stopAt, dead[len(dead)-1].err), time.Time{})
		r.log.Error().Int64("seq", stopAt).Int("generation", g.t.Generation).Msg("projection stopped on a dead letter")
	} else if len(dead) > 0 {
		r.setErr(fmt.Errorf("skipped event %d: %w", dead[len(dead)-1].ev.Seq, dead[len(dead)-1].err), time.Time{})
	}
	return nil
}

// last is the checkpoint after the batch: its last event, or, when it
// stops at stopAt, the last event before that (from if none).
func last(evs []eventlog.Event, stopAt, from int64) int64 {
	seq := from
	for _, e := range evs {
		if stopAt != 0 && e.Seq >= stopAt {
			break
		}
		seq = e.Seq
	}
	return seq
}

func indexOf(evs []eventlog.Event, seq int64) int {
	for i := range evs {
		if evs[i].Seq == seq {
			return i
		}
	}
	return -1
}

// commitBatch is one attempt: apply, record dead letters, move the
// checkpoint from g.seq to to. The checkpoint update is conditional on
// g.seq, so a batch can never be applied over a checkpoint that moved.
func (pr *Projector) commitBatch(ctx context.Context, tx *sql.Tx, r *runner, g *gen, evs []eventlog.Event, dead []deadLetter, to int64) error {
	if len(evs) > 0 {
		if err := r.p.Apply(ctx, tx, g.t, evs); err != nil {
			return fmt.Errorf("apply: %w", err)
		}
	}
	now := time.Now().UnixNano()
	for _, d := range dead {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO projector_dead_letters
			(name, generation, seq, doc, version, error, time) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			g.t.Projection, g.t.Generation, d.ev.Seq, d.ev.Doc, d.ev.Version, d.err.Error(), now); err != nil {
			return fmt.Errorf("record dead letter %d: %w", d.ev.Seq, err)
		}
	}
	res, err := tx.ExecContext(ctx, `UPDATE projector_checkpoints SET seq = ?, updated = ?
		WHERE name = ? AND generation = ? AND seq = ?`, to, now, g.t.Projection, g.t.Generation, g.seq)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("checkpoint of %s generation %d is not at %d (%d rows, %v): %w", g.t.Projection, g.t.Generation, g.seq, n, err, errMoved)
	}
	return nil
}
