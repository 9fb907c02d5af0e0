package eventlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

const sqlSnapshotAt = `SELECT version, text, time FROM snapshots
	WHERE doc = ? AND version <= ? ORDER BY version DESC LIMIT 1`

// SnapshotAt returns the snapshot of doc with the highest version at or
// below version: where a replay to version starts (time travel).
func (s *Store) SnapshotAt(ctx context.Context, doc string, version int64) (Snapshot, bool, error) {
	op := fmt.Sprintf("snapshot doc %q at or below %d", doc, version)
	if err := s.checkOpen(op); err != nil {
		return Snapshot{}, false, err
	}
	return s.scanSnapshot(op, doc, s.rdb.QueryRowContext(ctx, sqlSnapshotAt, doc, version))
}

// scanSnapshot reads one snapshot row (version, text, time) of doc; no
// row is (Snapshot{}, false, nil).
func (s *Store) scanSnapshot(op, doc string, row *sql.Row) (Snapshot, bool, error) {
	snap := Snapshot{Doc: doc}
	var ns int64
	switch err := row.Scan(&snap.Version, &snap.Text, &ns); {
	case errors.Is(err, sql.ErrNoRows):
		return Snapshot{}, false, nil
	case err != nil:
		return Snapshot{}, false, s.readErr(op, err)
	}
	snap.Time = time.Unix(0, ns)
	return snap, true, nil
}
