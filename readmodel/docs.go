package readmodel

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/collabedit/collab/catalog"
	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/projection"
)

// Docs is the document list read model ("docs"): per document its title
// (catalog.Title of the current text), size in code points, version,
// creation time (of version 0), last change, last author and number of
// distinct authors. It keeps each document's text in its own table to
// work the title out, and the (doc, author) pairs to count authors.
// The zero value works without a cache; NewDocs gives it one.
type Docs struct {
	texts *cache[*document.Text]
}

// NewDocs returns the Docs projection with a text cache of its own.
func NewDocs() *Docs { return &Docs{texts: newCache[*document.Text](cacheBudget)} }

// DocsName is the name of the Docs projection.
const DocsName = "docs"

// Name returns "docs".
func (*Docs) Name() string { return DocsName }

// Version is the layout of the docs tables: 2 added the name a rename
// sets (a changed version rebuilds the projection from the log).
func (*Docs) Version() int { return 2 }

// Create makes the list, text and authors tables with the indexes the
// list's sort orders use.
func (*Docs) Create(ctx context.Context, tx *sql.Tx, t projection.Tables) error {
	list, text, authors := t.Name("list"), t.Name("text"), t.Name("authors")
	for _, q := range []string{
		`CREATE TABLE ` + list + ` (doc TEXT PRIMARY KEY, title TEXT NOT NULL, name TEXT NOT NULL, size INTEGER NOT NULL,
			version INTEGER NOT NULL, created INTEGER NOT NULL, changed INTEGER NOT NULL,
			last_author TEXT NOT NULL, authors INTEGER NOT NULL) WITHOUT ROWID`,
		`CREATE INDEX ` + list + `_changed ON ` + list + ` (changed, doc)`,
		`CREATE INDEX ` + list + `_created ON ` + list + ` (created, doc)`,
		`CREATE INDEX ` + list + `_title ON ` + list + ` (title, doc)`,
		`CREATE TABLE ` + text + ` (doc TEXT PRIMARY KEY, version INTEGER NOT NULL, text TEXT NOT NULL) WITHOUT ROWID`,
		`CREATE TABLE ` + authors + ` (doc TEXT NOT NULL, author TEXT NOT NULL, PRIMARY KEY (doc, author)) WITHOUT ROWID`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("docs: create: %w", err)
		}
	}
	return nil
}

// Apply applies a batch: each document's text, list row and authors are
// written once per batch.
func (d *Docs) Apply(ctx context.Context, tx *sql.Tx, t projection.Tables, evs []eventlog.Event) error {
	for _, b := range byDoc(evs) {
		if err := d.apply(ctx, tx, t, b); err != nil {
			return err
		}
	}
	return nil
}

func (d *Docs) apply(ctx context.Context, tx *sql.Tx, t projection.Tables, b docBatch) error {
	textTable := t.Name("text")
	if b.tombstoned() {
		return forgetDoc(ctx, tx, b.doc, t.Name("list"), textTable, t.Name("authors"))
	}
	load := func() (string, int64, bool, error) {
		var s string
		var v int64
		err := tx.QueryRowContext(ctx, `SELECT text, version FROM `+textTable+` WHERE doc = ?`, b.doc).Scan(&s, &v)
		if errors.Is(err, sql.ErrNoRows) {
			return "", 0, false, nil
		}
		if err != nil {
			return "", 0, false, fmt.Errorf("docs: load text of %q: %w", b.doc, err)
		}
		return s, v, true, nil
	}
	text, version, applied, err := advanceText(d.texts, textTable, b, load)
	if err != nil || len(applied) == 0 {
		return err
	}
	s := text.String()
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+textTable+` (doc, version, text) VALUES (?, ?, ?)
		ON CONFLICT (doc) DO UPDATE SET version = excluded.version, text = excluded.text`, b.doc, version, s); err != nil {
		return fmt.Errorf("docs: write text of %q: %w", b.doc, err)
	}
	added, err := addAuthors(ctx, tx, t.Name("authors"), b.doc, applied)
	if err != nil {
		return err
	}
	first, last := applied[0], applied[len(applied)-1]
	// The title is the last rename's name, else the text's first line.
	// SET reads the old row, so "name" there is the stored name.
	name, renamed := lastTitle(applied)
	title := catalog.Title(s)
	if name != "" {
		title = name
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+t.Name("list")+`
		(doc, title, name, size, version, created, changed, last_author, authors) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (doc) DO UPDATE SET
			name = CASE WHEN ? THEN excluded.name ELSE name END,
			title = COALESCE(NULLIF(CASE WHEN ? THEN excluded.name ELSE name END, ''), ?),
			size = excluded.size, version = excluded.version,
			changed = excluded.changed, last_author = excluded.last_author, authors = authors + excluded.authors`,
		b.doc, title, name, text.Len(), version, first.Time.UnixNano(), last.Time.UnixNano(), last.Author, added,
		renamed, renamed, catalog.Title(s)); err != nil {
		return fmt.Errorf("docs: write row of %q: %w", b.doc, err)
	}
	d.texts.put(textTable, b.doc, version, text, text.Len())
	return nil
}

// addAuthors records the batch's authors of doc and returns how many
// were new.
func addAuthors(ctx context.Context, tx *sql.Tx, table, doc string, evs []eventlog.Event) (int64, error) {
	seen := make(map[string]bool)
	var added int64
	for _, e := range evs {
		if e.Kind != eventlog.Op || seen[e.Author] {
			continue // a rename or delete writes nothing
		}
		seen[e.Author] = true
		res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO `+table+` (doc, author) VALUES (?, ?)`, doc, e.Author)
		if err != nil {
			return 0, fmt.Errorf("docs: write authors of %q: %w", doc, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("docs: write authors of %q: %w", doc, err)
		}
		added += n
	}
	return added, nil
}
