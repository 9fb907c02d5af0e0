package readmodel

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/collabedit/collab/projection"
)

// ReadRuns returns doc's authorship runs in order (none for a document
// the projection has not seen), reading the Authorship tables t.
func ReadRuns(ctx context.Context, tx *sql.Tx, t projection.Tables, doc string) ([]Run, error) {
	rows, err := tx.QueryContext(ctx, `SELECT start, len, author FROM `+t.Name("runs")+` WHERE doc = ? ORDER BY start`, doc)
	if err != nil {
		return nil, fmt.Errorf("authorship: read %q: %w", doc, err)
	}
	defer rows.Close()
	out := []Run{}
	for rows.Next() {
		var r Run
		if err := rows.Scan(&r.Start, &r.Len, &r.Author); err != nil {
			return nil, fmt.Errorf("authorship: read %q: %w", doc, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("authorship: read %q: %w", doc, err)
	}
	return out, nil
}

// RunsVersion returns the version the authorship of doc reflects, and
// false when the projection has not seen doc.
func RunsVersion(ctx context.Context, tx *sql.Tx, t projection.Tables, doc string) (int64, bool, error) {
	var v int64
	err := tx.QueryRowContext(ctx, `SELECT version FROM `+t.Name("docs")+` WHERE doc = ?`, doc).Scan(&v)
	if err == sql.ErrNoRows {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("authorship: read %q: %w", doc, err)
	}
	return v, true, nil
}

// DocEntry is one row of the document list.
type DocEntry struct {
	Doc   string `json:"id"`
	Title string `json:"title"` // Name if set, else the text's first line
	// Name is the title the last rename set; "" if none (or cleared).
	Name       string    `json:"name,omitempty"`
	Size       int64     `json:"size"`
	Version    int64     `json:"version"`
	Created    time.Time `json:"created"`
	Changed    time.Time `json:"changed"`
	LastAuthor string    `json:"lastAuthor"`
	Authors    int64     `json:"authors"`
}

// Sort is a column the document list sorts on.
type Sort string

// The document list's sort orders.
const (
	SortChanged Sort = "changed"
	SortCreated Sort = "created"
	SortTitle   Sort = "title"
)

// ListQuery asks for a page of the document list: sorted by Sort
// (ascending unless Desc), after the row (AfterKey, AfterDoc) when
// After is set, at most Limit rows.
type ListQuery struct {
	Sort     Sort
	Desc     bool
	After    bool
	AfterKey any // int64 (unix ns) for changed and created, string for title
	AfterDoc string
	Limit    int
}

// Key returns e's sort key for s, as ListQuery.AfterKey takes it.
func (e DocEntry) Key(s Sort) any {
	switch s {
	case SortCreated:
		return e.Created.UnixNano()
	case SortTitle:
		return e.Title
	}
	return e.Changed.UnixNano()
}

// ListDocs reads a page of the document list from the Docs tables t.
func ListDocs(ctx context.Context, tx *sql.Tx, t projection.Tables, q ListQuery) ([]DocEntry, error) {
	col := string(q.Sort)
	if q.Sort != SortCreated && q.Sort != SortTitle {
		col = string(SortChanged)
	}
	dir, cmp := "ASC", ">"
	if q.Desc {
		dir, cmp = "DESC", "<"
	}
	var sb strings.Builder
	sb.WriteString(`SELECT ` + entryCols + ` FROM ` + t.Name("list"))
	args := []any{}
	if q.After {
		fmt.Fprintf(&sb, ` WHERE (%s %s ? OR (%s = ? AND doc %s ?))`, col, cmp, col, cmp)
		args = append(args, q.AfterKey, q.AfterKey, q.AfterDoc)
	}
	fmt.Fprintf(&sb, ` ORDER BY %s %s, doc %s LIMIT ?`, col, dir, dir)
	args = append(args, q.Limit)
	rows, err := tx.QueryContext(ctx, sb.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("docs: list: %w", err)
	}
	defer rows.Close()
	out := []DocEntry{}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("docs: list: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("docs: list: %w", err)
	}
	return out, nil
}

// entryCols are the columns scanEntry reads, in its order.
const entryCols = `doc, title, name, size, version, created, changed, last_author, authors`

// scanEntry scans one row of entryCols.
func scanEntry(row interface{ Scan(...any) error }) (DocEntry, error) {
	var e DocEntry
	var created, changed int64
	if err := row.Scan(&e.Doc, &e.Title, &e.Name, &e.Size, &e.Version, &created, &changed, &e.LastAuthor, &e.Authors); err != nil {
		return e, err
	}
	e.Created, e.Changed = time.Unix(0, created).UTC(), time.Unix(0, changed).UTC()
	return e, nil
}

// GetDoc reads doc's row of the document list; found is false for a
// document the list does not hold (never written, deleted, or not
// projected yet).
func GetDoc(ctx context.Context, tx *sql.Tx, t projection.Tables, doc string) (e DocEntry, found bool, err error) {
	e, err = scanEntry(tx.QueryRowContext(ctx, `SELECT `+entryCols+` FROM `+t.Name("list")+` WHERE doc = ?`, doc))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return DocEntry{}, false, nil
	case err != nil:
		return DocEntry{}, false, fmt.Errorf("docs: read %q: %w", doc, err)
	}
	return e, true, nil
}
