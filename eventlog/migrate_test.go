package eventlog

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// TestSizeRoundTrip: the size of each event is stored, read back with the
// events, and projected into the document list; a negative size is
// stored as unknown.
func TestSizeRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t, tempDB(t), Config{})
	for _, tc := range []struct {
		doc  string
		v    int64
		size int64
	}{
		{"a", 0, 5},
		{"a", 1, 0}, // emptied: a real size of zero, not unknown
		{"b", 0, 12},
		{"c", 0, -1},
	} {
		e := ev(tc.doc, tc.v)
		e.Size = tc.size
		mustAppend(t, s, e)
	}
	evs, err := s.Events(ctx, "a", 0, 0)
	if err != nil || len(evs) != 2 || evs[0].Size != 5 || evs[1].Size != 0 {
		t.Fatalf("events of a = %+v, %v; want sizes 5, 0", evs, err)
	}
	all, err := s.Since(ctx, 0, 0)
	if err != nil || len(all) != 4 || all[3].Size != -1 {
		t.Fatalf("since 0 = %+v, %v; want the last size unknown (-1)", all, err)
	}
	want := map[string]int64{"a": 0, "b": 12, "c": -1}
	docs, err := s.Docs(ctx, 0)
	if err != nil || len(docs) != len(want) {
		t.Fatalf("docs = %+v, %v", docs, err)
	}
	for _, d := range docs {
		if d.Size != want[d.Doc] {
			t.Errorf("doc %s size = %d, want %d", d.Doc, d.Size, want[d.Doc])
		}
	}
}

// TestMigrateV1: a file written by storage version 1 (no size columns) is
// migrated in place; its old documents show an unknown size until their
// next event, and nothing else changes.
func TestMigrateV1(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := tempDB(t)
	writeV1File(t, path, map[string]int64{"old": 3, "other": 1})

	s := openTest(t, path, Config{})
	docs, err := s.Docs(ctx, 0)
	if err != nil || len(docs) != 2 {
		t.Fatalf("docs after migration = %+v, %v", docs, err)
	}
	for _, d := range docs {
		if d.Size != -1 {
			t.Errorf("doc %s size = %d after migration, want -1 (unknown)", d.Doc, d.Size)
		}
	}
	if h, err := s.Head(ctx, "old"); err != nil || h != 3 {
		t.Fatalf("head of old = %d, %v; want 3", h, err)
	}
	e := ev("old", 3)
	e.Size = 42
	mustAppend(t, s, e)
	docs, err = s.Docs(ctx, 1)
	if err != nil || len(docs) != 1 || docs[0].Doc != "old" || docs[0].Version != 4 || docs[0].Size != 42 {
		t.Fatalf("docs after a new event = %+v, %v; want old at version 4 with size 42", docs, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if v := userVersion(t, path); v != storageVersion {
		t.Fatalf("user_version = %d after migration, want %d", v, storageVersion)
	}
	// Opening again is a no-op: the migration does not run twice.
	s2 := openTest(t, path, Config{})
	if docs, err := s2.Docs(ctx, 0); err != nil || len(docs) != 2 {
		t.Fatalf("docs after reopen = %+v, %v", docs, err)
	}
}

// writeV1File creates a storage version 1 file at path, as the build
// before sizes wrote it, with heads[doc] events for each doc.
func writeV1File(t *testing.T, path string, heads map[string]int64) {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range schemaV1 {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("v1 schema: %v", err)
		}
	}
	now := time.Now().UnixNano()
	for doc, n := range heads {
		for v := int64(0); v < n; v++ {
			if _, err := db.Exec(`INSERT INTO events (doc, version, op_id, author, time, schema, payload)
				VALUES (?, ?, ?, 'alice', ?, 1, '["x"]')`, doc, v, ev(doc, v).OpID, now); err != nil {
				t.Fatalf("v1 insert: %v", err)
			}
		}
	}
	if _, err := db.Exec("PRAGMA user_version = 1"); err != nil {
		t.Fatal(err)
	}
}

func userVersion(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
