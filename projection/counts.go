package projection

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/collabedit/collab/eventlog"
)

// Counts is a built-in projection named "stats": the number of events per
// document (with its last seq) and per author. It is small enough to
// check against the log exactly, which is what the crash and rebuild
// tests do, and answers "how active is this document".
//
// Tables: stats_docs_g<N>(doc PRIMARY KEY, events, last_seq) and
// stats_authors_g<N>(author PRIMARY KEY, events).
type Counts struct{}

// Name implements Projection.
func (Counts) Name() string { return "stats" }

// Version implements Projection.
func (Counts) Version() int { return 1 }

// Create implements Projection.
func (Counts) Create(ctx context.Context, tx *sql.Tx, t Tables) error {
	for _, q := range []string{
		fmt.Sprintf(`CREATE TABLE %s (doc TEXT PRIMARY KEY, events INTEGER NOT NULL, last_seq INTEGER NOT NULL) WITHOUT ROWID`, t.Name("docs")),
		fmt.Sprintf(`CREATE TABLE %s (author TEXT PRIMARY KEY, events INTEGER NOT NULL) WITHOUT ROWID`, t.Name("authors")),
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("stats: create: %w", err)
		}
	}
	return nil
}

// Apply implements Projection.
func (Counts) Apply(ctx context.Context, tx *sql.Tx, t Tables, evs []eventlog.Event) error {
	docs, err := tx.PrepareContext(ctx, fmt.Sprintf(`INSERT INTO %s (doc, events, last_seq) VALUES (?, 1, ?)
		ON CONFLICT (doc) DO UPDATE SET events = events + 1, last_seq = excluded.last_seq`, t.Name("docs")))
	if err != nil {
		return fmt.Errorf("stats: apply: %w", err)
	}
	defer docs.Close()
	authors, err := tx.PrepareContext(ctx, fmt.Sprintf(`INSERT INTO %s (author, events) VALUES (?, 1)
		ON CONFLICT (author) DO UPDATE SET events = events + 1`, t.Name("authors")))
	if err != nil {
		return fmt.Errorf("stats: apply: %w", err)
	}
	defer authors.Close()
	for _, e := range evs {
		if _, err := docs.ExecContext(ctx, e.Doc, e.Seq); err != nil {
			return fmt.Errorf("stats: apply %d: %w", e.Seq, err)
		}
		if _, err := authors.ExecContext(ctx, e.Author); err != nil {
			return fmt.Errorf("stats: apply %d: %w", e.Seq, err)
		}
	}
	return nil
}

// DocCounts reads the stats projection: events per document.
func DocCounts(ctx context.Context, tx *sql.Tx, t Tables) (map[string]int64, error) {
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT doc, events FROM %s`, t.Name("docs")))
	if err != nil {
		return nil, fmt.Errorf("stats: read: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var doc string
		var n int64
		if err := rows.Scan(&doc, &n); err != nil {
			return nil, fmt.Errorf("stats: read: %w", err)
		}
		out[doc] = n
	}
	return out, rows.Err()
}
