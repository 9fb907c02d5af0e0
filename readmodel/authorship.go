package readmodel

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/projection"
)

// Authorship is the read model of who wrote each surviving character
// ("authorship"), as runs (doc, start, len, author) in <runs>, with each
// document's version and length in <docs>. Each op transforms the runs in
// memory (retained text keeps its author, inserted text is the event's
// author's, deleted text goes; neighbouring runs of one author merge, so
// a document written by one author is one run); the work is linear in
// the op plus the runs it walks past. Per batch, only the runs from the
// first one the batch changed are rewritten. Recently changed documents'
// runs are cached in memory.
//
// The zero value works without a cache; NewAuthorship gives it one.
type Authorship struct {
	runs *cache[runs]
}

// NewAuthorship returns the Authorship projection with a run cache of its
// own.
func NewAuthorship() *Authorship { return &Authorship{runs: newCache[runs](cacheBudget / 8)} }

// AuthorshipName is the name of the Authorship projection.
const AuthorshipName = "authorship"

// Name returns "authorship".
func (*Authorship) Name() string { return AuthorshipName }

// Version is the layout of the authorship tables.
func (*Authorship) Version() int { return 1 }

// Create makes the runs and docs tables.
func (*Authorship) Create(ctx context.Context, tx *sql.Tx, t projection.Tables) error {
	for _, q := range []string{
		`CREATE TABLE ` + t.Name("runs") + ` (doc TEXT NOT NULL, start INTEGER NOT NULL, len INTEGER NOT NULL,
			author TEXT NOT NULL, PRIMARY KEY (doc, start)) WITHOUT ROWID`,
		`CREATE TABLE ` + t.Name("docs") + ` (doc TEXT PRIMARY KEY, version INTEGER NOT NULL, length INTEGER NOT NULL) WITHOUT ROWID`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("authorship: create: %w", err)
		}
	}
	return nil
}

// Apply applies a batch, rewriting each document's changed runs once.
func (a *Authorship) Apply(ctx context.Context, tx *sql.Tx, t projection.Tables, evs []eventlog.Event) error {
	for _, b := range byDoc(evs) {
		if err := a.apply(ctx, tx, t, b); err != nil {
			return err
		}
	}
	return nil
}

func (a *Authorship) apply(ctx context.Context, tx *sql.Tx, t projection.Tables, b docBatch) error {
	table := t.Name("runs")
	if b.tombstoned() {
		return forgetDoc(ctx, tx, b.doc, table, t.Name("docs"))
	}
	version := b.evs[0].Version
	state, ok := a.runs.take(table, b.doc, version)
	if !ok {
		var err error
		if state, version, err = loadRuns(ctx, tx, t, b.doc); err != nil {
			return err
		}
	}
	evs, err := pending(b, version)
	if err != nil || len(evs) == 0 {
		return err
	}
	first := state.length
	for _, e := range evs {
		op, err := decodeOp(e)
		if err != nil {
			return err
		}
		var at int
		if state, at, err = state.applyOp(op, e.Author); err != nil {
			return &projection.EventError{Seq: e.Seq, Err: fmt.Errorf("doc %q version %d: %w", e.Doc, e.Version, err)}
		}
		first = min(first, at)
		version++
	}
	if err := writeRuns(ctx, tx, t, b.doc, state, first, version); err != nil {
		return err
	}
	a.runs.put(table, b.doc, version, state, len(state.list)+1)
	return nil
}

// loadRuns reads a document's runs and version (zero for a new one).
func loadRuns(ctx context.Context, tx *sql.Tx, t projection.Tables, doc string) (runs, int64, error) {
	var st runs
	var version int64
	err := tx.QueryRowContext(ctx, `SELECT version, length FROM `+t.Name("docs")+` WHERE doc = ?`, doc).Scan(&version, &st.length)
	if errors.Is(err, sql.ErrNoRows) {
		return st, 0, nil
	}
	if err != nil {
		return st, 0, fmt.Errorf("authorship: load %q: %w", doc, err)
	}
	st.list, err = ReadRuns(ctx, tx, t, doc)
	return st, version, err
}

// writeRuns replaces the stored runs from the first one that may have
// changed (no change happened before position first).
func writeRuns(ctx context.Context, tx *sql.Tx, t projection.Tables, doc string, st runs, first int, version int64) error {
	k, start := st.from(first)
	table := t.Name("runs")
	if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE doc = ? AND start >= ?`, doc, start); err != nil {
		return fmt.Errorf("authorship: write %q: %w", doc, err)
	}
	if k < len(st.list) {
		ins, err := tx.PrepareContext(ctx, `INSERT INTO `+table+` (doc, start, len, author) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("authorship: write %q: %w", doc, err)
		}
		defer ins.Close()
		for _, r := range st.list[k:] {
			if _, err := ins.ExecContext(ctx, doc, r.Start, r.Len, r.Author); err != nil {
				return fmt.Errorf("authorship: write %q: %w", doc, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+t.Name("docs")+` (doc, version, length) VALUES (?, ?, ?)
		ON CONFLICT (doc) DO UPDATE SET version = excluded.version, length = excluded.length`, doc, version, st.length); err != nil {
		return fmt.Errorf("authorship: write %q: %w", doc, err)
	}
	return nil
}
