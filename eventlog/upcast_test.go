package eventlog

import (
	"context"
	"database/sql"
	"errors"
	"testing"
)

// rawInsert writes an event row directly with SQL, bypassing Append, as
// an older build would have.
func rawInsert(t *testing.T, s *Store, doc string, version int64, schema int, payload string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+s.path()+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Exec(`INSERT INTO events (doc, version, op_id, author, time, schema, payload) VALUES (?, ?, ?, 'old', 1, ?, ?)`,
		doc, version, doc+"-raw-"+string(rune('a'+version)), schema, []byte(payload))
	if err != nil {
		t.Fatalf("raw insert %s@%d: %v", doc, version, err)
	}
}

// TestUpcastLegacyRows: rows written in schema 0 ({"ops":[...]} objects)
// with SQL are read back by Events and Since in the current wire form,
// beside current rows, which come back verbatim.
func TestUpcastLegacyRows(t *testing.T) {
	t.Parallel()
	s := openTest(t, tempDB(t), Config{})
	ctx := context.Background()
	rawInsert(t, s, "old", 0, 0, `{"ops":[{"insert":"héllo"}]}`)
	rawInsert(t, s, "old", 1, 0, `{"ops":[{"retain":1},{"delete":2},{"insert":"a\"b"},{"retain":2}]}`)
	mustAppend(t, s, Event{Doc: "old", Version: 2, OpID: "new-1", Op: []byte(`[3,"!"]`)})
	want := []string{`["héllo"]`, `[1,-2,"a\"b",2]`, `[3,"!"]`}
	evs, err := s.Events(ctx, "old", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	since, err := s.Since(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range [][]Event{evs, since} {
		if len(got) != len(want) {
			t.Fatalf("%d events, want %d", len(got), len(want))
		}
		for i, e := range got {
			if string(e.Op) != want[i] {
				t.Errorf("event %d: op %s, want %s", i, e.Op, want[i])
			}
		}
	}
}

// TestUnknownSchemaRefused: a row from a newer build, or a legacy row
// that does not parse, fails the read with a clear error instead of
// being handed out as something else.
func TestUnknownSchemaRefused(t *testing.T) {
	t.Parallel()
	s := openTest(t, tempDB(t), Config{})
	ctx := context.Background()
	rawInsert(t, s, "new", 0, SchemaVersion+1, `{"v2":true}`)
	_, err := s.Events(ctx, "new", 0, 0)
	var se *SchemaError
	if !errors.Is(err, ErrUnknownSchema) || !errors.As(err, &se) || se.Schema != SchemaVersion+1 {
		t.Fatalf("events of a newer schema: %v", err)
	}
	if _, err := s.Since(ctx, 0, 0); !errors.Is(err, ErrUnknownSchema) {
		t.Fatalf("since over a newer schema: %v", err)
	}
	rawInsert(t, s, "bad", 0, 0, `{"ops":[{"retain":1,"insert":"x"}]}`)
	if _, err := s.Events(ctx, "bad", 0, 0); err == nil || errors.Is(err, ErrUnknownSchema) || !errors.As(err, &se) {
		t.Fatalf("malformed legacy row: %v", err)
	}
}

// TestUpcastLegacyForms checks the schema 0 upcaster component by
// component.
func TestUpcastLegacyForms(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{"ops":[]}`: `[]`,
		`{"ops":[{"retain":5},{"insert":"x"},{"delete":1}]}`: `[5,"x",-1]`,
	} {
		got, err := Upcast(0, []byte(in))
		if err != nil || string(got) != want {
			t.Errorf("Upcast(0, %s) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{`[1]`, `{}`, `{"ops":[{}]}`, `{"ops":[{"retain":0}]}`, `{"ops":[{"insert":""}]}`, `{"ops":[{"delete":-1}]}`} {
		if got, err := Upcast(0, []byte(in)); err == nil {
			t.Errorf("Upcast(0, %s) = %s, want an error", in, got)
		}
	}
	if got, err := Upcast(SchemaVersion, []byte(`[1]`)); err != nil || string(got) != `[1]` {
		t.Errorf("current payload: %s %v", got, err)
	}
	if _, err := Upcast(-1, nil); !errors.Is(err, ErrUnknownSchema) {
		t.Errorf("schema -1: %v", err)
	}
}
