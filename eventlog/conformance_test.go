package eventlog_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/eventlog/logtest"
)

// TestConformance runs the contract's suite against the SQLite store.
func TestConformance(t *testing.T) {
	t.Parallel()
	logtest.Run(t, logtest.Impl{
		NewDB: func(t *testing.T) string { return filepath.Join(t.TempDir(), "log.db") },
		Open: func(t *testing.T, db string, cfg logtest.Config) eventlog.Log {
			t.Helper()
			s, err := eventlog.Open(db, eventlog.Config{Shared: true, OnCommit: cfg.OnCommit})
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
		InsertRaw: func(t *testing.T, db string, e eventlog.Event, schema int) {
			t.Helper()
			c, err := sql.Open("sqlite3", "file:"+db+"?_busy_timeout=5000")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Exec(`INSERT INTO events (doc, version, op_id, author, time, schema, payload) VALUES (?, ?, ?, ?, 1, ?, ?)`,
				e.Doc, e.Version, e.OpID, e.Author, schema, e.Op); err != nil {
				t.Fatalf("raw insert: %v", err)
			}
		},
	})
}

// BenchmarkAppendParallel measures the SQLite store's durable
// (synchronous=FULL) group commit (logtest.BenchAppendParallel).
func BenchmarkAppendParallel(b *testing.B) {
	logtest.BenchAppendParallel(b, benchStore(b))
}

// BenchmarkAppendSerial is the one-fsync-per-event baseline.
func BenchmarkAppendSerial(b *testing.B) { logtest.BenchAppendSerial(b, benchStore(b)) }

func benchStore(b *testing.B) *eventlog.Store {
	b.Helper()
	s, err := eventlog.Open(filepath.Join(b.TempDir(), "log.db"), eventlog.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// BenchmarkAppendHot is one hot document's commits as it grows
// (logtest.BenchAppendHot).
func BenchmarkAppendHot(b *testing.B) { logtest.BenchAppendHot(b, benchStore(b)) }
