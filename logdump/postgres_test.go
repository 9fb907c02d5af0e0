package logdump_test

import (
	"context"
	"os"
	"testing"

	"github.com/collabedit/collab/eventlog/postgres"
	"github.com/collabedit/collab/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestRoundTripPostgres moves a SQLite log into PostgreSQL and compares
// every event and every document at every snapshot, then dumps the
// PostgreSQL log again (roundTrip's last check): the move to PostgreSQL
// and back.
func TestRoundTripPostgres(t *testing.T) {
	src := openSQLite(t)
	ids := fill(t, src, 6, 400)
	dst, err := postgres.Open(context.Background(), pgtest.DB(t), postgres.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dst.Close() })
	roundTrip(t, src, dst, ids)
}
