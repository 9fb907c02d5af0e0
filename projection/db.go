package projection

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

// The projector's own tables, beside the projections' ones. A checkpoint
// row per generation: the serving one (serving = 1) and, during a
// rebuild, the one being built.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS projector_checkpoints (
		name       TEXT    NOT NULL,
		generation INTEGER NOT NULL,
		version    INTEGER NOT NULL,
		seq        INTEGER NOT NULL,
		serving    INTEGER NOT NULL,
		updated    INTEGER NOT NULL,
		PRIMARY KEY (name, generation)
	) WITHOUT ROWID`,
	// What Create made for a generation, so it can be dropped exactly.
	`CREATE TABLE IF NOT EXISTS projector_tables (
		name       TEXT    NOT NULL,
		generation INTEGER NOT NULL,
		tbl        TEXT    NOT NULL,
		kind       TEXT    NOT NULL,
		PRIMARY KEY (name, generation, tbl)
	) WITHOUT ROWID`,
	`CREATE TABLE IF NOT EXISTS projector_dead_letters (
		name       TEXT    NOT NULL,
		generation INTEGER NOT NULL,
		seq        INTEGER NOT NULL,
		doc        TEXT    NOT NULL,
		version    INTEGER NOT NULL,
		error      TEXT    NOT NULL,
		time       INTEGER NOT NULL,
		PRIMARY KEY (name, generation, seq)
	) WITHOUT ROWID`,
}

// dsn: WAL, so readers never wait for the projector's writes, and
// synchronous NORMAL: a power cut may lose the last batches, but a batch
// and its checkpoint commit together, so the projector resumes from an
// earlier checkpoint and applies them again. Read models are derived data.
func dsn(path, extra string) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	q.Set("_busy_timeout", "5000")
	return "file:" + esc + "?" + q.Encode() + extra
}

func (pr *Projector) openDBs(ctx context.Context) error {
	var err error
	// Every transaction of the writer connection writes, and several
	// processes share the file (with Redis): BEGIN IMMEDIATE takes the
	// write lock first, waiting for it up to the busy timeout. A deferred
	// BEGIN reads first and then fails at once with "database is locked"
	// when another process wrote in between (SQLite cannot upgrade a stale
	// read snapshot, and calls no busy handler for it): two processes
	// started together had one refuse to start, and under load each
	// process's projector failed and retried batches dozens of times a
	// minute.
	if pr.wdb, err = sql.Open("sqlite3", dsn(pr.path, "&_txlock=immediate")); err != nil {
		return fmt.Errorf("projection: open %s: %w", pr.path, err)
	}
	pr.wdb.SetMaxOpenConns(1) // the projector's one writer connection
	pr.wdb.SetMaxIdleConns(1)
	pr.wdb.SetConnMaxLifetime(0)
	for _, q := range schema {
		if _, err := pr.wdb.ExecContext(ctx, q); err != nil {
			pr.abandonDBs()
			return fmt.Errorf("projection: open %s: schema: %w", pr.path, err)
		}
	}
	if pr.rdb, err = sql.Open("sqlite3", dsn(pr.path, "&_query_only=1")); err != nil {
		pr.abandonDBs()
		return fmt.Errorf("projection: open %s: read pool: %w", pr.path, err)
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	pr.rdb.SetMaxOpenConns(n)
	pr.rdb.SetMaxIdleConns(n)
	return nil
}

func (pr *Projector) closeDBs() error {
	var errs []error
	if pr.rdb != nil {
		errs = append(errs, pr.rdb.Close())
	}
	if pr.wdb != nil {
		errs = append(errs, pr.wdb.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("projection: close: %w", err)
	}
	return nil
}

// abandonDBs closes the databases of an Open that failed, leaving a
// projector that Close (and a later Open) take as never opened.
func (pr *Projector) abandonDBs() {
	_ = pr.closeDBs()
	pr.rdb, pr.wdb = nil, nil
}

// inTx runs fn in a write transaction on the projector's connection.
func (pr *Projector) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := pr.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
