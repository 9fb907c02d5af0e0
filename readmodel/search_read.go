package readmodel

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode"

	"github.com/collabedit/collab/projection"
)

// Hit is one search result: the document, the version its text had, a
// key to page after it, and a snippet around the matches as pieces of
// text, the matching ones marked.
type Hit struct {
	Doc     string    `json:"id"`
	Version int64     `json:"version"`
	Key     int64     `json:"-"`
	Snippet []Segment `json:"snippet"`
}

// Segment is a piece of a snippet; Match marks a matching word.
type Segment struct {
	Text  string `json:"text"`
	Match bool   `json:"match,omitempty"`
}

// Snippet markers: control characters a document rarely holds, turned
// into Segments so that no markup reaches a client.
const markOpen, markClose = "\x02", "\x03"

// MatchQuery turns what a user typed into an FTS4 query: each word
// quoted (so no query syntax leaks through), all required; a word ending
// in * matches as a prefix. "" when q has no word.
func MatchQuery(q string) string {
	var terms []string
	for _, w := range strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) && r != '*' }) {
		prefix := strings.HasSuffix(w, "*")
		w = strings.Trim(w, "*")
		if w == "" {
			continue
		}
		if prefix {
			w += "*"
		}
		terms = append(terms, `"`+w+`"`)
	}
	return strings.Join(terms, " ")
}

// SearchDocs reads up to limit hits for the FTS4 query match (see
// MatchQuery) after key (0 for the first page) from the Search tables t.
func SearchDocs(ctx context.Context, tx *sql.Tx, t projection.Tables, match string, after int64, limit int) ([]Hit, error) {
	rows, err := tx.QueryContext(ctx, `SELECT d.doc, d.version, f.docid, snippet(`+t.Name("fts")+`, ?, ?, '…', -1, 12)
		FROM `+t.Name("fts")+` f JOIN `+t.Name("docs")+` d ON d.id = f.docid
		WHERE f.body MATCH ? AND f.docid > ? ORDER BY f.docid LIMIT ?`, markOpen, markClose, match, after, limit)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	out := []Hit{}
	for rows.Next() {
		var h Hit
		var snip string
		if err := rows.Scan(&h.Doc, &h.Version, &h.Key, &snip); err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		h.Snippet = segments(snip)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return out, nil
}

// segments splits a marked snippet into Segments.
func segments(s string) []Segment {
	out := []Segment{}
	for s != "" {
		i := strings.Index(s, markOpen)
		if i < 0 {
			return append(out, Segment{Text: s})
		}
		if i > 0 {
			out = append(out, Segment{Text: s[:i]})
		}
		s = s[i+len(markOpen):]
		j := strings.Index(s, markClose)
		if j < 0 {
			j = len(s)
		}
		out = append(out, Segment{Text: s[:j], Match: true})
		s = strings.TrimPrefix(s[j:], markClose)
	}
	return out
}
