package readmodel_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/collabedit/collab/catalog"
	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/projection"
	"github.com/collabedit/collab/readmodel"
	"github.com/collabedit/collab/readmodel/rmtest"
)

var words = []string{"alpha ", "budget ", "Ünïcode ", "😀 ", "\n", "# Title ", "zeta ", "x"}

// model is a document's expected state: text and the author of each
// code point.
type model struct {
	text    []rune
	authors []string
	seen    map[string]bool
	last    string
	created time.Time
	changed time.Time
	version int64
}

// randomEdits makes n random edits of one document and its expected
// final state.
func randomEdits(rng *rand.Rand, n int, t0 time.Time) ([]rmtest.Edit, *model) {
	m := &model{seen: map[string]bool{}}
	var edits []rmtest.Edit
	for i := range n {
		pos := rng.IntN(len(m.text) + 1)
		del := 0
		if rng.IntN(3) == 0 {
			del = rng.IntN(len(m.text)-pos+1) % 7
		}
		ins := ""
		if rng.IntN(4) != 0 || len(m.text) == 0 {
			ins = words[rng.IntN(len(words))]
		}
		author := fmt.Sprintf("a%d", rng.IntN(3))
		at := t0.Add(time.Duration(i) * time.Second)
		edits = append(edits, rmtest.Edit{Op: document.FromPatch(pos, del, ins), Author: author, At: at})
		r := []rune(ins)
		as := make([]string, len(r))
		for j := range as {
			as[j] = author
		}
		m.text = append(m.text[:pos], append(r, m.text[pos+del:]...)...)
		m.authors = append(m.authors[:pos], append(as, m.authors[pos+del:]...)...)
		m.seen[author], m.last, m.changed, m.version = true, author, at, int64(i+1)
		if i == 0 {
			m.created = at
		}
	}
	return edits, m
}

// replay writes docs random documents through Store.Append and feeds
// every read model in batches of batch events.
func replay(t *testing.T, docs, edits, batch int, ps ...projection.Projection) (*rmtest.Driver, map[string]*model) {
	t.Helper()
	ctx := context.Background()
	store := rmtest.OpenStore(t)
	rng := rand.New(rand.NewPCG(uint64(docs), uint64(edits)))
	models := map[string]*model{}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var writers []*rmtest.Writer
	var all [][]rmtest.Edit
	for d := range docs {
		id := fmt.Sprintf("doc-%d", d)
		es, m := randomEdits(rng, edits, t0.Add(time.Duration(d)*time.Millisecond))
		models[id], writers, all = m, append(writers, rmtest.NewWriter(store, id)), append(all, es)
	}
	for i := range edits { // interleave documents
		for d, w := range writers {
			if _, err := w.Append(ctx, all[d][i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	drv := rmtest.New(t, store, ps...)
	if err := drv.CatchUp(ctx, batch); err != nil {
		t.Fatal(err)
	}
	return drv, models
}

func TestReplayFromZero(t *testing.T) {
	t.Parallel()
	for _, batch := range []int{1, 7, 1000} {
		t.Run(fmt.Sprint("batch", batch), func(t *testing.T) {
			t.Parallel()
			drv, models := replay(t, 3, 150, batch, readmodel.All()...)
			checkDocs(t, drv, models)
			checkSearchText(t, drv, models)
			checkRuns(t, drv, models)
		})
	}
	t.Run("zero values, no cache", func(t *testing.T) {
		t.Parallel()
		drv, models := replay(t, 2, 100, 9, &readmodel.Docs{}, &readmodel.Search{}, &readmodel.Authorship{})
		checkDocs(t, drv, models)
		checkSearchText(t, drv, models)
		checkRuns(t, drv, models)
	})
}

func read(t *testing.T, drv *rmtest.Driver, name string, fn func(tx *sql.Tx, tb projection.Tables) error) {
	t.Helper()
	err := drv.Read(context.Background(), name, func(_ context.Context, tx *sql.Tx, tb projection.Tables, _ projection.Position) error {
		return fn(tx, tb)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func checkDocs(t *testing.T, drv *rmtest.Driver, models map[string]*model) {
	t.Helper()
	read(t, drv, readmodel.DocsName, func(tx *sql.Tx, tb projection.Tables) error {
		list, err := readmodel.ListDocs(context.Background(), tx, tb, readmodel.ListQuery{Sort: readmodel.SortTitle, Limit: 100})
		if err != nil {
			return err
		}
		if len(list) != len(models) {
			t.Fatalf("%d docs listed, want %d", len(list), len(models))
		}
		for _, e := range list {
			m := models[e.Doc]
			want := readmodel.DocEntry{Doc: e.Doc, Title: catalog.Title(string(m.text)), Size: int64(len(m.text)),
				Version: m.version, Created: m.created, Changed: m.changed, LastAuthor: m.last, Authors: int64(len(m.seen))}
			if e != want {
				t.Errorf("got  %+v\nwant %+v", e, want)
			}
		}
		return nil
	})
}

func checkSearchText(t *testing.T, drv *rmtest.Driver, models map[string]*model) {
	t.Helper()
	read(t, drv, readmodel.SearchName, func(tx *sql.Tx, tb projection.Tables) error {
		for id, m := range models {
			var body string
			err := tx.QueryRow(`SELECT f.body FROM `+tb.Name("fts")+` f JOIN `+tb.Name("docs")+` d ON d.id = f.docid WHERE d.doc = ?`, id).Scan(&body)
			if err != nil {
				return err
			}
			if body != string(m.text) {
				t.Errorf("%s: indexed text differs from replay", id)
			}
		}
		return nil
	})
}

func checkRuns(t *testing.T, drv *rmtest.Driver, models map[string]*model) {
	t.Helper()
	read(t, drv, readmodel.AuthorshipName, func(tx *sql.Tx, tb projection.Tables) error {
		for id, m := range models {
			runs, err := readmodel.ReadRuns(context.Background(), tx, tb, id)
			if err != nil {
				return err
			}
			var got []string
			for i, r := range runs {
				if r.Start != len(got) || r.Len <= 0 || (i > 0 && runs[i-1].Author == r.Author) {
					t.Fatalf("%s: bad run %d %+v", id, i, r)
				}
				for range r.Len {
					got = append(got, r.Author)
				}
			}
			if len(got) != len(m.text) || strings.Join(got, ",") != strings.Join(m.authors, ",") {
				t.Errorf("%s: runs cover %d code points, text has %d, or authors differ", id, len(got), len(m.text))
			}
		}
		return nil
	})
}

// TestRolledBackBatchLeavesNothing applies a batch in a transaction that
// is rolled back, then the same events for real twice: the tables equal
// a single clean application.
func TestRolledBackBatchLeavesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := rmtest.OpenStore(t)
	w := rmtest.NewWriter(store, "idem")
	rng := rand.New(rand.NewPCG(1, 2))
	edits, m := randomEdits(rng, 60, time.Unix(1e9, 0).UTC())
	for _, e := range edits {
		if _, err := w.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := store.Since(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	drv := rmtest.New(t, store, readmodel.All()...)
	for _, p := range readmodel.All() {
		tb := rmtest.Tables(p)
		before := dump(t, drv.DB, tb)
		tx, err := drv.DB.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Apply(ctx, tx, tb, evs); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if after := dump(t, drv.DB, tb); after != before {
			t.Fatalf("%s: rolled-back batch left rows:\n%s", p.Name(), after)
		}
		for range 2 { // the second time is a no-op
			for _, part := range [][]int{{0, 25}, {10, 60}} {
				tx, _ := drv.DB.Begin()
				if err := p.Apply(ctx, tx, tb, evs[part[0]:part[1]]); err != nil {
					t.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	checkDocs(t, drv, map[string]*model{"idem": m})
}

func dump(t *testing.T, db *sql.DB, tb projection.Tables) string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ? ORDER BY name`, tb.Projection+"_%")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	var sb strings.Builder
	for _, n := range names {
		var c int
		if err := db.QueryRow(`SELECT count(*) FROM ` + n).Scan(&c); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sb, "%s %d\n", n, c)
	}
	return sb.String()
}

func TestSearchForgetsDeletedWords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := rmtest.OpenStore(t)
	drv := rmtest.New(t, store, readmodel.All()...)
	w := rmtest.NewWriter(store, "s")
	text := "The budget for Zürich was approved"
	for _, e := range []rmtest.Edit{{Op: document.FromPatch(0, 0, text), Author: "a"}} {
		if _, err := w.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	find := func(q string) int {
		if err := drv.CatchUp(ctx, 100); err != nil {
			t.Fatal(err)
		}
		var n int
		read(t, drv, readmodel.SearchName, func(tx *sql.Tx, tb projection.Tables) error {
			hits, err := readmodel.SearchDocs(ctx, tx, tb, readmodel.MatchQuery(q), 0, 10)
			n = len(hits)
			return err
		})
		return n
	}
	for _, q := range []string{"budget", "ZURICH", "bud*", "approved budget"} {
		if find(q) != 1 {
			t.Fatalf("%q not found", q)
		}
	}
	at := utf8.RuneCountInString("The ")
	if _, err := w.Append(ctx, rmtest.Edit{Op: document.FromPatch(at, len("budget "), ""), Author: "b"}); err != nil {
		t.Fatal(err)
	}
	if find("budget") != 0 || find("approved") != 1 {
		t.Fatal("deleted word still found, or others lost")
	}
}
