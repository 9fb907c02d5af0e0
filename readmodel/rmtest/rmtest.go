// Package rmtest is a minimal projector for tests of read models and the
// query API: it feeds projections from a real *eventlog.Store into a temp
// SQLite database, synchronously, without the projection package's
// projector.
package rmtest

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/projection"
	_ "github.com/mattn/go-sqlite3" // the "sqlite3" driver
)

// Driver feeds projections from a Store. Safe for concurrent use.
type Driver struct {
	Store *eventlog.Store // the log it reads
	DB    *sql.DB         // the read-model database it writes
	mu    sync.Mutex
	projs map[string]projection.Projection
	seq   int64
}

// New opens a read-model database in t's temp dir and creates the
// projections' tables (generation 1).
func New(t testing.TB, store *eventlog.Store, ps ...projection.Projection) *Driver {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "rm.db")+"?_journal_mode=WAL&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	d := &Driver{Store: store, DB: db, projs: make(map[string]projection.Projection)}
	for _, p := range ps {
		d.projs[p.Name()] = p
		err := d.inTx(context.Background(), func(tx *sql.Tx) error { return p.Create(context.Background(), tx, Tables(p)) })
		if err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// Tables is the generation the driver uses for p.
func Tables(p projection.Projection) projection.Tables {
	return projection.Tables{Projection: p.Name(), Generation: 1}
}

func (d *Driver) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// CatchUp applies every event after the last one applied, in batches of
// batch events (each projection's batch in its own transaction).
func (d *Driver) CatchUp(ctx context.Context, batch int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for {
		evs, err := d.Store.Since(ctx, d.seq, batch)
		if err != nil {
			return fmt.Errorf("rmtest: since %d: %w", d.seq, err)
		}
		if len(evs) == 0 {
			return nil
		}
		for _, p := range d.projs {
			if err := d.inTx(ctx, func(tx *sql.Tx) error { return p.Apply(ctx, tx, Tables(p), evs) }); err != nil {
				return fmt.Errorf("rmtest: %s: %w", p.Name(), err)
			}
		}
		d.seq = evs[len(evs)-1].Seq
	}
}

// Read runs fn in a transaction on name's tables with the position the
// driver reached, as the projector's Read does.
func (d *Driver) Read(ctx context.Context, name string, fn projection.ReadFunc) error {
	d.mu.Lock()
	p, ok := d.projs[name]
	pos := projection.Position{Seq: d.seq, Head: d.seq}
	d.mu.Unlock()
	if !ok {
		return fmt.Errorf("rmtest: no projection %q", name)
	}
	tx, err := d.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	return fn(ctx, tx, Tables(p), pos)
}
