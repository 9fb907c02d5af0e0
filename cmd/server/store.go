package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/eventlog/postgres"
)

// openStore opens the event log -store names: the SQLite file
// <data>/events.db by default, or PostgreSQL for a postgres:// URL. It
// returns the log and where it is, for the "listening" line (a URL
// without its password).
//
// Either way one rule holds: processes that serve the same log must
// coordinate through Redis leases (-redis-url), or they would each
// sequence the same documents and diverge. Without -redis-url the
// process takes the log exclusively — a flock on the SQLite file, a
// session advisory lock on PostgreSQL, both dropped by the kernel or the
// server when the process dies — and a second one is refused with a
// message that says so. With PostgreSQL the data directory is not locked:
// it only holds this process's read models.
func openStore(ctx context.Context, o options, onCommit func(), log zerolog.Logger) (eventlog.Log, string, error) {
	shared := o.redisURL != ""
	if isPostgres(o.store) {
		where := redactURL(o.store)
		s, err := postgres.Open(ctx, o.store, postgres.Config{
			OnCommit: onCommit, // commits of every process wake the projector (LISTEN/NOTIFY)
			Logger:   log,
			Shared:   shared,
		})
		var locked *eventlog.LockedError
		if errors.As(err, &locked) {
			return nil, "", storeInUse(where, locked)
		}
		if err != nil {
			return nil, "", fmt.Errorf("open event log %s: %w", where, err)
		}
		return s, where, nil
	}
	if o.store != "" {
		return nil, "", fmt.Errorf("-store %q: want empty (SQLite in the data directory) or a postgres:// URL", o.store)
	}
	path := filepath.Join(o.dataDir, "events.db")
	s, err := eventlog.Open(path, eventlog.Config{
		OnCommit:     onCommit, // wakes the projector
		Logger:       log.With().Str("component", "eventlog").Logger(),
		MinFreeBytes: o.minFreeDisk,
		// Processes sharing Redis lease each document to one of them, so
		// they may share the data directory; without Redis one process
		// must have it to itself.
		Shared: shared,
	})
	var locked *eventlog.LockedError
	if errors.As(err, &locked) {
		return nil, "", dataDirInUse(o.dataDir, locked)
	}
	if err != nil {
		return nil, "", fmt.Errorf("open event log: %w", err)
	}
	return s, path, nil
}

func isPostgres(store string) bool {
	return strings.HasPrefix(store, "postgres://") || strings.HasPrefix(store, "postgresql://")
}

// redactURL drops the password from a database URL.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	return u.Redacted()
}

// storeInUse tells the operator why the server cannot start on a
// PostgreSQL log another server process uses, and how to run several.
func storeInUse(where string, e *eventlog.LockedError) error {
	holder := "server processes started with -redis-url"
	if e.Shared {
		holder = "a server process started without -redis-url"
	}
	return fmt.Errorf("event log %s is in use by %s; to serve one PostgreSQL log from several processes, start every one with -redis-url: %w",
		where, holder, eventlog.ErrLocked)
}
