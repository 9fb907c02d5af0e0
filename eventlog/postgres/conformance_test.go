package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/eventlog/logtest"
	"github.com/collabedit/collab/eventlog/postgres"
	"github.com/collabedit/collab/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func openStore(t testing.TB, url string, cfg postgres.Config) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url, cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// impl is the PostgreSQL store as the conformance suite opens it.
var impl = logtest.Impl{
	NewDB: func(t *testing.T) string { return pgtest.DB(t) },
	Open: func(t *testing.T, db string, cfg logtest.Config) eventlog.Log {
		t.Helper()
		return openStore(t, db, postgres.Config{Shared: true, OnCommit: cfg.OnCommit})
	},
	InsertRaw: func(t *testing.T, db string, e eventlog.Event, schema int) {
		t.Helper()
		ctx := context.Background()
		c, err := pgx.Connect(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, `INSERT INTO events (doc, version, op_id, author, time, schema, payload) VALUES ($1, $2, $3, $4, 1, $5, $6)`,
			e.Doc, e.Version, e.OpID, e.Author, schema, e.Op); err != nil {
			t.Fatalf("raw insert: %v", err)
		}
	},
}

// TestConformance runs the contract's suite against the PostgreSQL store.
func TestConformance(t *testing.T) { logtest.Run(t, impl) }
