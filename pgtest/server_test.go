package pgtest_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/collabedit/collab/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func query(t *testing.T, url string) (int, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer c.Close(context.Background())
	var n int
	err = c.QueryRow(ctx, "SELECT 1").Scan(&n)
	return n, err
}

func TestDBGivesEachTestItsOwnDatabase(t *testing.T) {
	a, b := pgtest.DB(t), pgtest.DB(t)
	if a == b {
		t.Fatalf("two databases share URL %s", a)
	}
	for _, u := range []string{a, b} {
		if n, err := query(t, u); err != nil || n != 1 {
			t.Fatalf("SELECT 1 on %s: %d, %v", u, n, err)
		}
	}
}

func TestStopRefusesConnectionsUntilStart(t *testing.T) {
	s := pgtest.Start(t)
	u := s.DB(t)
	s.Stop()
	if _, err := query(t, u); err == nil {
		t.Fatal("query succeeded on a stopped server")
	}
	s.Start(t)
	if _, err := query(t, u); err != nil {
		t.Fatalf("after Start: %v", err)
	}
	s.Kill()
	s.Start(t) // crash recovery
	if _, err := query(t, u); err != nil {
		t.Fatalf("after Kill and Start: %v", err)
	}
}
