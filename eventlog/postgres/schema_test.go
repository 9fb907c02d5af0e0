package postgres_test

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/eventlog/postgres"
	"github.com/collabedit/collab/pgtest"
)

// TestGapCheckPlan: the gap check finds the event below a new one by its
// full key (doc, version), however stale the statistics it was planned
// with. PL/pgSQL caches the check's plan after five calls; in storage
// version 1 a plan made while the table was small scanned the document's
// every event through the (doc, op_id) index (12,222 rows filtered per
// event at version 12,223), which made a hot document's commits grow
// linearly with its length. The session here plans the check on an
// empty table, appends 600 versions of one document, then has
// auto_explain report the plan the 601st insert runs (LOAD and its
// settings need a superuser, which pgtest's servers give).
func TestGapCheckPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.DB(t)
	_ = openStore(t, url, postgres.Config{Shared: true}).Close() // migrates
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var plans []string
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		mu.Lock()
		plans = append(plans, n.Message)
		mu.Unlock()
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	const n = 600
	insert := func(v int) {
		t.Helper()
		_, err := conn.Exec(ctx, `INSERT INTO events (doc, version, op_id, author, time, schema, payload)
			VALUES ('hot', $1, $2, '', 0, 1, '')`, v, "op"+strconv.Itoa(v))
		if err != nil {
			t.Fatalf("insert version %d: %v", v, err)
		}
	}
	for v := range n {
		insert(v)
	}
	for _, q := range []string{`LOAD 'auto_explain'`, `SET auto_explain.log_min_duration = 0`,
		`SET auto_explain.log_nested_statements = on`, `SET auto_explain.log_analyze = on`,
		`SET auto_explain.log_level = notice`} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	insert(n)
	mu.Lock()
	defer mu.Unlock()
	removed := regexp.MustCompile(`Rows Removed by Filter: (\d+)`)
	var check string
	for _, p := range plans {
		if strings.Contains(p, "FROM events WHERE doc = NEW.doc") {
			check = p
		}
	}
	if check == "" {
		t.Fatalf("no plan of the gap check among %d reported:\n%s", len(plans), strings.Join(plans, "\n"))
	}
	if !strings.Contains(check, "events_doc_version_key") {
		t.Errorf("the gap check does not use the (doc, version) index:\n%s", check)
	}
	if m := removed.FindStringSubmatch(check); m != nil && m[1] != "0" {
		t.Errorf("the gap check read %s other rows of the document:\n%s", m[1], check)
	}
}

// TestMigrateFromV1: a database of storage version 1 (UNIQUE (doc,
// op_id), here under another name than PostgreSQL's default) is brought
// to version 2 by two processes opening it at once while an old build's
// writer keeps appending: both opens succeed, every append lands, and a
// duplicate op id is still refused by the new (op_id, doc) constraint.
func TestMigrateFromV1(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.DB(t)
	s := openStore(t, url, postgres.Config{Shared: true})
	for v := range 3 {
		if _, err := s.Append(ctx, eventlog.Event{Doc: "d", Version: int64(v), OpID: "op" + strconv.Itoa(v), Op: []byte(`[]`)}); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	downgradeToV1(t, conn)
	// The old build's writer: plain inserts of doc "old", one a
	// millisecond, until both opens are done.
	writer, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close(ctx)
	stop := make(chan struct{})
	wrote := make(chan int)
	go func() {
		n := 0
		defer func() { wrote <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := writer.Exec(ctx, `INSERT INTO events (doc, version, op_id, author, time, schema, payload)
				VALUES ('old', $1, $2, '', 0, 1, '')`, n, "old"+strconv.Itoa(n)); err != nil {
				t.Errorf("the old build's append %d: %v", n, err)
				return
			}
			n++
			time.Sleep(time.Millisecond)
		}
	}()
	var wg sync.WaitGroup
	stores := make([]*postgres.Store, 2)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := postgres.Open(ctx, url, postgres.Config{Shared: true})
			if err != nil {
				t.Errorf("open %d: %v", i, err)
				return
			}
			t.Cleanup(func() { _ = st.Close() })
			stores[i] = st
		}()
	}
	wg.Wait()
	close(stop)
	written := <-wrote
	if t.Failed() {
		t.FailNow()
	}
	if v := storageVersion(t, conn); v != 2 {
		t.Fatalf("storage version %d, want 2", v)
	}
	rows, _ := conn.Query(ctx, `SELECT conname FROM pg_constraint WHERE conrelid = 'events'::regclass AND contype = 'u' ORDER BY conname`)
	constraints, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || strings.Join(constraints, " ") != "events_doc_version_key events_op_id_doc_key" {
		t.Fatalf("unique constraints %v (%v)", constraints, err)
	}
	for doc, want := range map[string]int64{"d": 3, "old": int64(written)} {
		if h, err := stores[0].Head(ctx, doc); err != nil || h != want {
			t.Fatalf("%s at head %d (%v) after the migration, want %d", doc, h, err, want)
		}
	}
	_, err = stores[1].Append(ctx, eventlog.Event{Doc: "d", Version: 3, OpID: "op1", Op: []byte(`[]`)})
	var dup *eventlog.DuplicateError
	if !errors.As(err, &dup) || dup.Version != 1 {
		t.Fatalf("op1 again: %v, want a duplicate of version 1", err)
	}
	t.Logf("the old build appended %d events during the migration", written)
}

// downgradeToV1 gives a current database storage version 1's layout, as
// an older build wrote it (its (doc, op_id) constraint under another name
// than PostgreSQL's default, which the migration must not rely on).
func downgradeToV1(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	for _, q := range []string{`ALTER TABLE events DROP CONSTRAINT events_op_id_doc_key`,
		`ALTER TABLE events ADD CONSTRAINT legacy_doc_op UNIQUE (doc, op_id)`,
		`UPDATE schema_version SET version = 1`} {
		if _, err := conn.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// storageVersion reads the database's storage version.
func storageVersion(t *testing.T, conn *pgx.Conn) int {
	t.Helper()
	var v int
	if err := conn.QueryRow(context.Background(), `SELECT version FROM schema_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestMigrateTimeout: a migration that runs out of MigrateTimeout fails
// Open and rolls back whole (the database stays at version 1, its old
// constraint in place); the next Open migrates it.
func TestMigrateTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.DB(t)
	_ = openStore(t, url, postgres.Config{Shared: true}).Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	downgradeToV1(t, conn)
	if s, err := postgres.Open(ctx, url, postgres.Config{Shared: true, MigrateTimeout: time.Nanosecond}); err == nil {
		_ = s.Close()
		t.Fatal("Open migrated within a nanosecond")
	}
	if v := storageVersion(t, conn); v != 1 {
		t.Fatalf("storage version %d after a migration that timed out, want 1 (rolled back)", v)
	}
	_ = openStore(t, url, postgres.Config{Shared: true})
	if v := storageVersion(t, conn); v != 2 {
		t.Fatalf("storage version %d after the next Open, want 2", v)
	}
}
