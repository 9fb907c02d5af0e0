package projection

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// gen is one generation of a projection's tables and its checkpoint.
type gen struct {
	t       Tables
	version int
	seq     int64 // last event applied or skipped
	stopped bool  // on a dead letter with OnError Stop
}

// load reads r's checkpoints at Open: it creates the first generation of
// a new projection, resumes a rebuild of the current version, or starts
// one when the serving generation has another version.
func (pr *Projector) load(ctx context.Context, r *runner) error {
	rows, err := pr.wdb.QueryContext(ctx, `SELECT generation, version, seq, serving
		FROM projector_checkpoints WHERE name = ? ORDER BY generation`, r.p.Name())
	if err != nil {
		return fmt.Errorf("read checkpoints: %w", err)
	}
	var serving *gen
	var others []*gen
	for rows.Next() {
		g := &gen{t: Tables{Projection: r.p.Name()}}
		var s bool
		if err := rows.Scan(&g.t.Generation, &g.version, &g.seq, &s); err != nil {
			rows.Close()
			return fmt.Errorf("read checkpoints: %w", err)
		}
		if s {
			serving = g
		} else {
			others = append(others, g)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read checkpoints: %w", err)
	}
	if serving == nil {
		serving, err = pr.createGen(ctx, r, true)
		if err != nil {
			return err
		}
	}
	r.serving = serving
	for _, g := range others {
		if g.version == r.p.Version() && r.building == nil {
			r.building = g // resume the rebuild where it stopped
			continue
		}
		if err := pr.inTx(ctx, func(tx *sql.Tx) error { return dropGen(ctx, tx, g.t) }); err != nil {
			return err
		}
	}
	if r.building == nil && serving.version != r.p.Version() {
		if r.building, err = pr.createGen(ctx, r, false); err != nil {
			return err
		}
	}
	r.dead.Store(pr.countDeadLetters(ctx, r.p.Name()))
	if r.building != nil {
		r.log.Info().Int("generation", r.building.t.Generation).Int("version", r.p.Version()).
			Int("serving_version", serving.version).Msg("rebuilding projection")
	}
	return nil
}

// reload re-reads r's generations from the file.
func (pr *Projector) reload(ctx context.Context, r *runner) error {
	fresh := &runner{p: r.p, log: r.log}
	if err := pr.load(ctx, fresh); err != nil {
		return err
	}
	r.mu.Lock()
	r.serving, r.building = fresh.serving, fresh.building
	r.mu.Unlock()
	return nil
}

func (pr *Projector) countDeadLetters(ctx context.Context, name string) int64 {
	var n int64
	_ = pr.wdb.QueryRowContext(ctx, `SELECT count(*) FROM projector_dead_letters WHERE name = ?`, name).Scan(&n)
	return n
}

// createGen makes a new generation of r's tables, numbered after every
// generation the projection has had, with a checkpoint at seq 0.
func (pr *Projector) createGen(ctx context.Context, r *runner, serving bool) (*gen, error) {
	name := r.p.Name()
	g := &gen{t: Tables{Projection: name}, version: r.p.Version()}
	err := pr.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(generation), 0) + 1 FROM (
			SELECT generation FROM projector_checkpoints WHERE name = ?1
			UNION ALL SELECT generation FROM projector_tables WHERE name = ?1)`, name).Scan(&g.t.Generation); err != nil {
			return fmt.Errorf("next generation: %w", err)
		}
		before, err := schemaObjects(ctx, tx)
		if err != nil {
			return err
		}
		if err := r.p.Create(ctx, tx, g.t); err != nil {
			return fmt.Errorf("create generation %d: %w", g.t.Generation, err)
		}
		if err := recordTables(ctx, tx, g.t, before); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO projector_checkpoints
			(name, generation, version, seq, serving, updated) VALUES (?, ?, ?, 0, ?, ?)`,
			name, g.t.Generation, g.version, serving, time.Now().UnixNano())
		if err != nil {
			return fmt.Errorf("insert checkpoint: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// schemaObjects lists the tables and views in the database.
func schemaObjects(ctx context.Context, tx *sql.Tx) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type IN ('table', 'view')`)
	if err != nil {
		return nil, fmt.Errorf("list schema: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("list schema: %w", err)
		}
		out[n] = true
	}
	return out, rows.Err()
}

// recordTables notes in projector_tables what Create added to the schema.
func recordTables(ctx context.Context, tx *sql.Tx, t Tables, before map[string]bool) error {
	rows, err := tx.QueryContext(ctx, `SELECT name, CASE WHEN type = 'view' THEN 'view'
		WHEN sql LIKE 'CREATE VIRTUAL%' THEN 'vtable' ELSE 'table' END
		FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	if err != nil {
		return fmt.Errorf("list schema: %w", err)
	}
	type obj struct{ name, kind string }
	var added []obj
	for rows.Next() {
		var o obj
		if err := rows.Scan(&o.name, &o.kind); err != nil {
			rows.Close()
			return fmt.Errorf("list schema: %w", err)
		}
		if !before[o.name] {
			added = append(added, o)
		}
	}
	rows.Close()
	for _, o := range added {
		if _, err := tx.ExecContext(ctx, `INSERT INTO projector_tables (name, generation, tbl, kind)
			VALUES (?, ?, ?, ?)`, t.Projection, t.Generation, o.name, o.kind); err != nil {
			return fmt.Errorf("record table %s: %w", o.name, err)
		}
	}
	return nil
}

// dropGen drops a generation's tables (views, then virtual tables, whose
// shadow tables go with them, then tables) and its checkpoint.
func dropGen(ctx context.Context, tx *sql.Tx, t Tables) error {
	rows, err := tx.QueryContext(ctx, `SELECT tbl, kind FROM projector_tables WHERE name = ? AND generation = ?
		ORDER BY CASE kind WHEN 'view' THEN 0 WHEN 'vtable' THEN 1 ELSE 2 END`, t.Projection, t.Generation)
	if err != nil {
		return fmt.Errorf("drop generation %d: %w", t.Generation, err)
	}
	var stmts []string
	for rows.Next() {
		var tbl, kind string
		if err := rows.Scan(&tbl, &kind); err != nil {
			rows.Close()
			return fmt.Errorf("drop generation %d: %w", t.Generation, err)
		}
		what := "TABLE"
		if kind == "view" {
			what = "VIEW"
		}
		stmts = append(stmts, fmt.Sprintf(`DROP %s IF EXISTS "%s"`, what, tbl))
	}
	rows.Close()
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("drop generation %d: %s: %w", t.Generation, q, err)
		}
	}
	for _, q := range []string{`DELETE FROM projector_tables WHERE name = ? AND generation = ?`,
		`DELETE FROM projector_checkpoints WHERE name = ? AND generation = ?`} {
		if _, err := tx.ExecContext(ctx, q, t.Projection, t.Generation); err != nil {
			return fmt.Errorf("drop generation %d: %w", t.Generation, err)
		}
	}
	return nil
}

// swap makes r's caught-up rebuild the serving generation and drops the
// old one, in one transaction: a reader sees one or the other.
func (pr *Projector) swap(ctx context.Context, r *runner) error {
	old, next := r.serving, r.building
	err := pr.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE projector_checkpoints SET serving = 1, updated = ?
			WHERE name = ? AND generation = ?`, time.Now().UnixNano(), next.t.Projection, next.t.Generation); err != nil {
			return fmt.Errorf("swap: %w", err)
		}
		return dropGen(ctx, tx, old.t)
	})
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.serving, r.building = next, nil
	r.mu.Unlock()
	r.log.Info().Int("generation", next.t.Generation).Int("version", next.version).
		Int64("seq", next.seq).Msg("rebuild caught up: serving the new generation")
	return nil
}
