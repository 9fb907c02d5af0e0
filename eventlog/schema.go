package eventlog

import (
	"context"
	"database/sql"
	"fmt"
)

// SchemaVersion is the version of the op payload format written into the
// schema column of every event row: 1 is the JSON wire array of protocol
// §2. Version 0 is the legacy object form {"ops":[{"retain":n},
// {"insert":"s"},{"delete":n}]}; reads upcast it (upcast.go) and refuse
// versions above this one with ErrUnknownSchema.
const SchemaVersion = 1

// storageVersion is the layout of the SQLite file itself, kept in
// PRAGMA user_version. Open migrates any older file step by step up to
// storageVersion (see migrations) and refuses files written by a newer
// build (a higher user_version) rather than guess.
const storageVersion = 3

// migrations[i] brings a file from storage version i to i+1. A fresh file
// runs them all, in one transaction.
var migrations = [][]string{schemaV1, schemaV2, schemaV3}

// schemaV1 creates the tables. Every statement is idempotent so that two
// processes opening a fresh file at once cannot fail each other; they are
// additionally serialised by BEGIN IMMEDIATE in migrate.
var schemaV1 = []string{
	// seq is the rowid alias: a global, gap-free-on-commit order across
	// documents. It is assigned inside the writer's BEGIN IMMEDIATE
	// transaction, which holds SQLite's single write lock, so commit order
	// equals seq order even across processes and a projection that reads
	// Since(lastSeq) can never skip a row that commits later with a lower seq.
	`CREATE TABLE IF NOT EXISTS events (
		seq     INTEGER PRIMARY KEY,
		doc     TEXT    NOT NULL CHECK (doc <> ''),
		version INTEGER NOT NULL CHECK (version >= 0),
		op_id   TEXT    NOT NULL CHECK (op_id <> ''),
		author  TEXT    NOT NULL,
		time    INTEGER NOT NULL,
		schema  INTEGER NOT NULL,
		payload BLOB    NOT NULL,
		prev    TEXT    NOT NULL DEFAULT '',
		UNIQUE (doc, version),
		UNIQUE (doc, op_id)
	)`,
	// Last line of defence against a process that lost ownership of a
	// document: a version may only be appended on top of version-1, so a
	// writer with a stale head can never leave a hole; and when the event
	// names the op it was transformed on top of (prev), version-1 must be
	// that op. UNIQUE(doc, version) alone is not enough: a deposed owner
	// with ops pipelined at h and h+1 loses h to the new owner, but its h+1
	// (transformed against its own h) would then fit on top of the new
	// owner's h. RAISE(ABORT) undoes only this INSERT; the batch
	// transaction carries on.
	`CREATE TRIGGER IF NOT EXISTS events_no_gap BEFORE INSERT ON events
	WHEN NEW.version <> 0 AND NOT EXISTS (
		SELECT 1 FROM events WHERE doc = NEW.doc AND version = NEW.version - 1
		AND (NEW.prev = '' OR op_id = NEW.prev))
	BEGIN
		SELECT RAISE(ABORT, 'eventlog: version gap');
	END`,
	// docs is a tiny read model maintained in the same transaction, so
	// Docs() is an index scan of N documents instead of a GROUP BY over
	// every event ever written.
	`CREATE TABLE IF NOT EXISTS docs (
		doc     TEXT    PRIMARY KEY,
		version INTEGER NOT NULL,
		seq     INTEGER NOT NULL,
		updated INTEGER NOT NULL
	) WITHOUT ROWID`,
	`CREATE INDEX IF NOT EXISTS docs_by_seq ON docs (seq)`,
	`CREATE TRIGGER IF NOT EXISTS events_docs AFTER INSERT ON events
	BEGIN
		INSERT INTO docs (doc, version, seq, updated)
		VALUES (NEW.doc, NEW.version + 1, NEW.seq, NEW.time)
		ON CONFLICT (doc) DO UPDATE SET
			version = excluded.version, seq = excluded.seq, updated = excluded.updated;
	END`,
	`CREATE TABLE IF NOT EXISTS snapshots (
		doc     TEXT    NOT NULL,
		version INTEGER NOT NULL,
		text    TEXT    NOT NULL,
		time    INTEGER NOT NULL,
		PRIMARY KEY (doc, version)
	) WITHOUT ROWID`,
}

// schemaV2 records each document's length (code points) after every event
// and projects it into the docs read model, so the document list shows
// sizes with one index scan. Rows written before version 2 keep NULL
// (unknown) until their document's next event. ALTER TABLE ... ADD COLUMN
// is not idempotent, but migrate re-reads user_version under BEGIN
// IMMEDIATE, so a second process opening the file at the same time sees 2
// and skips this step.
var schemaV2 = []string{
	`ALTER TABLE events ADD COLUMN size INTEGER CHECK (size >= 0)`,
	`ALTER TABLE docs ADD COLUMN size INTEGER`,
	`DROP TRIGGER IF EXISTS events_docs`,
	`CREATE TRIGGER events_docs AFTER INSERT ON events
	BEGIN
		INSERT INTO docs (doc, version, seq, updated, size)
		VALUES (NEW.doc, NEW.version + 1, NEW.seq, NEW.time, NEW.size)
		ON CONFLICT (doc) DO UPDATE SET
			version = excluded.version, seq = excluded.seq,
			updated = excluded.updated, size = excluded.size;
	END`,
}

// schemaV3 adds document lifecycle events (lifecycle.go): kind is empty for
// an op and 'rename', 'delete' or 'purge' otherwise, meta their JSON
// details. The rules that keep a deleted document dead live here, next to
// the gap check, so a process that has not heard of a delete (a deposed
// owner, an old build) cannot write past it either: an event may only go
// on top of an op or a rename, except a purge, which only goes on top of a
// delete; nothing goes on top of a purge. A purge then erases the
// document's earlier events and snapshots in the same transaction, and
// docs (the trigger-kept list) forgets a deleted or purged document.
var schemaV3 = []string{
	`ALTER TABLE events ADD COLUMN kind TEXT NOT NULL DEFAULT '' CHECK (kind IN ('', 'rename', 'delete', 'purge'))`,
	`ALTER TABLE events ADD COLUMN meta BLOB`,
	`DROP TRIGGER IF EXISTS events_no_gap`,
	`CREATE TRIGGER events_no_gap BEFORE INSERT ON events
	WHEN NEW.version <> 0 AND NOT EXISTS (
		SELECT 1 FROM events WHERE doc = NEW.doc AND version = NEW.version - 1
		AND (NEW.prev = '' OR op_id = NEW.prev)
		AND ((kind IN ('', 'rename') AND NEW.kind <> 'purge') OR (kind = 'delete' AND NEW.kind = 'purge')))
	BEGIN
		SELECT RAISE(ABORT, 'eventlog: version gap');
	END`,
	`DROP TRIGGER IF EXISTS events_docs`,
	`CREATE TRIGGER events_docs AFTER INSERT ON events WHEN NEW.kind IN ('', 'rename')
	BEGIN
		INSERT INTO docs (doc, version, seq, updated, size)
		VALUES (NEW.doc, NEW.version + 1, NEW.seq, NEW.time, NEW.size)
		ON CONFLICT (doc) DO UPDATE SET
			version = excluded.version, seq = excluded.seq,
			updated = excluded.updated, size = excluded.size;
	END`,
	`CREATE TRIGGER events_tombstone AFTER INSERT ON events WHEN NEW.kind IN ('delete', 'purge')
	BEGIN
		DELETE FROM docs WHERE doc = NEW.doc;
	END`,
	`CREATE TRIGGER events_purge AFTER INSERT ON events WHEN NEW.kind = 'purge'
	BEGIN
		DELETE FROM events WHERE doc = NEW.doc AND version < NEW.version;
		DELETE FROM snapshots WHERE doc = NEW.doc;
	END`,
}

// migrate brings the file to storageVersion on the write connection.
func migrate(ctx context.Context, conn *sql.Conn) (err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("migrate: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_, _ = conn.ExecContext(ctx, "ROLLBACK")
		}
	}()
	var v int
	if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("migrate: read user_version: %w", err)
	}
	switch {
	case v > storageVersion:
		return fmt.Errorf("migrate: file has storage version %d, this build knows %d", v, storageVersion)
	case v < storageVersion:
		for step := v; step < storageVersion; step++ {
			for _, q := range migrations[step] {
				if _, err := conn.ExecContext(ctx, q); err != nil {
					return fmt.Errorf("migrate: storage version %d to %d: %w", step, step+1, err)
				}
			}
		}
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", storageVersion)); err != nil {
			return fmt.Errorf("migrate: set user_version: %w", err)
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}
