package readmodel

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/projection"
)

// Search is the full-text search read model ("search") over each
// document's current text.
//
// It uses SQLite FTS4, not FTS5: github.com/mattn/go-sqlite3 compiles FTS5
// in only with the sqlite_fts5 build tag (sqlite3_opt_fts5.go), and the
// project's two commands (go run ./cmd/server, scripts/test.sh) build
// without tags, while FTS3/4 is compiled in by default. FTS4 with the
// unicode61 tokenizer matches words case- and accent-insensitively and
// gives snippets; it has no built-in ranking, so results come in
// document-row order, which also makes paging stable.
//
// Tables: <docs>(id INTEGER PRIMARY KEY, doc UNIQUE, version) and the FTS4
// table <fts>(body), whose docid is the document's id and whose body is
// the text itself (the projection's copy of each document's text, read
// back to apply the next batch when not cached). Each document's FTS row
// is written once per batch.
//
// The zero value works without a cache; NewSearch gives it one.
type Search struct {
	texts *cache[*document.Text]
}

// NewSearch returns the Search projection with a text cache of its own.
func NewSearch() *Search { return &Search{texts: newCache[*document.Text](cacheBudget)} }

// SearchName is the name of the Search projection.
const SearchName = "search"

// Name returns "search".
func (*Search) Name() string { return SearchName }

// Version is the layout of the search tables.
func (*Search) Version() int { return 1 }

// Create makes the documents table and the FTS4 table.
func (*Search) Create(ctx context.Context, tx *sql.Tx, t projection.Tables) error {
	for _, q := range []string{
		`CREATE TABLE ` + t.Name("docs") + ` (id INTEGER PRIMARY KEY, doc TEXT NOT NULL UNIQUE, version INTEGER NOT NULL)`,
		`CREATE VIRTUAL TABLE ` + t.Name("fts") + ` USING fts4(body, tokenize=unicode61)`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("search: create: %w", err)
		}
	}
	return nil
}

// Apply applies a batch, writing each changed document's FTS row once.
func (s *Search) Apply(ctx context.Context, tx *sql.Tx, t projection.Tables, evs []eventlog.Event) error {
	for _, b := range byDoc(evs) {
		if err := s.apply(ctx, tx, t, b); err != nil {
			return err
		}
	}
	return nil
}

func (s *Search) apply(ctx context.Context, tx *sql.Tx, t projection.Tables, b docBatch) error {
	docs, fts := t.Name("docs"), t.Name("fts")
	if b.tombstoned() {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+fts+` WHERE docid IN (SELECT id FROM `+docs+` WHERE doc = ?)`, b.doc); err != nil {
			return fmt.Errorf("search: forget deleted %q: %w", b.doc, err)
		}
		return forgetDoc(ctx, tx, b.doc, docs)
	}
	load := func() (string, int64, bool, error) {
		var s string
		var v int64
		err := tx.QueryRowContext(ctx, `SELECT d.version, f.body FROM `+docs+` d JOIN `+fts+` f ON f.docid = d.id
			WHERE d.doc = ?`, b.doc).Scan(&v, &s)
		if errors.Is(err, sql.ErrNoRows) {
			return "", 0, false, nil
		}
		if err != nil {
			return "", 0, false, fmt.Errorf("search: load text of %q: %w", b.doc, err)
		}
		return s, v, true, nil
	}
	text, version, applied, err := advanceText(s.texts, fts, b, load)
	if err != nil || len(applied) == 0 {
		return err
	}
	if err := writeSearch(ctx, tx, docs, fts, b.doc, version, text.String()); err != nil {
		return err
	}
	s.texts.put(fts, b.doc, version, text, text.Len())
	return nil
}

// writeSearch upserts a document's row and replaces its FTS row.
func writeSearch(ctx context.Context, tx *sql.Tx, docs, fts, doc string, version int64, text string) error {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO `+docs+` (doc, version) VALUES (?, ?)
		ON CONFLICT (doc) DO UPDATE SET version = excluded.version RETURNING id`, doc, version).Scan(&id)
	if err != nil {
		return fmt.Errorf("search: write row of %q: %w", doc, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM `+fts+` WHERE docid = ?`, id); err != nil {
		return fmt.Errorf("search: delete index of %q: %w", doc, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+fts+` (docid, body) VALUES (?, ?)`, id, text); err != nil {
		return fmt.Errorf("search: index %q: %w", doc, err)
	}
	return nil
}
