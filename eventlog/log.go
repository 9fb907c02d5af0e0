package eventlog

import "context"

// Log is the whole contract of an event store, the one the server wires:
// *Store (SQLite, this package) and *postgres.Store implement it, and
// logtest.Run is its definition in tests. Consumers that need less own a
// smaller interface (hub.Store, catalog.Source, projection.Log,
// feed.Source, query.Log, metrics.StatsSource); both stores satisfy each.
//
// Every implementation keeps the guarantees of the package comment:
// UNIQUE(doc, version) and UNIQUE(doc, op_id) and the prev/no-gap check
// enforced by the database (so a deposed owner cannot write), group
// commit with callbacks in call order after COMMIT, a global seq whose
// order is commit order (Since never skips an event that commits later),
// a bounded queue answering ErrBusy, errors of this package's types, and
// Close answering everything queued.
type Log interface {
	// AppendAsync queues e for the next group commit without waiting;
	// done is called exactly once, after the commit, on the writer.
	AppendAsync(e Event, done func(Event, error))
	// Append stores e and waits for the commit (or ctx).
	Append(ctx context.Context, e Event) (Event, error)
	// PutSnapshotAsync queues snap; a full queue drops it.
	PutSnapshotAsync(snap Snapshot)
	// PutSnapshot stores snap and waits for the commit (or ctx).
	PutSnapshot(ctx context.Context, snap Snapshot) error

	// Events returns doc's events with version >= from, at most limit
	// (limit <= 0: all), in version order, payloads upcast.
	Events(ctx context.Context, doc string, from int64, limit int) ([]Event, error)
	// Since returns up to limit events with seq > afterSeq in seq order.
	Since(ctx context.Context, afterSeq int64, limit int) ([]Event, error)
	// LastSeq is the seq of the last committed event, 0 when none.
	LastSeq(ctx context.Context) (int64, error)
	// Head is doc's version: the number of its events.
	Head(ctx context.Context, doc string) (int64, error)
	// FindOp reports the version opID was stored at for doc.
	FindOp(ctx context.Context, doc, opID string) (version int64, found bool, err error)
	// Docs lists documents by their last change, newest first.
	Docs(ctx context.Context, limit int) ([]DocInfo, error)
	// LatestSnapshot is doc's snapshot with the highest version.
	LatestSnapshot(ctx context.Context, doc string) (Snapshot, bool, error)
	// SnapshotAt is doc's snapshot with the highest version <= version.
	SnapshotAt(ctx context.Context, doc string, version int64) (Snapshot, bool, error)

	// Health is nil or an error wrapping ErrUnavailable, for readiness.
	Health(ctx context.Context) error
	// Stats are the writer's counters and gauges, for metrics.
	Stats() Stats
	// Close commits and answers everything queued, then releases the
	// database; later calls get ErrClosed.
	Close() error
}

var _ Log = (*Store)(nil)
