package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/collabedit/collab/eventlog"
)

const (
	// reconnectMin and reconnectMax bound the session's backoff after its
	// connection drops: 100 ms finds a restarted server within a tenth of
	// a second of it accepting connections, 2 s keeps a long outage from
	// costing more than a connection attempt every 2 s.
	reconnectMin = 100 * time.Millisecond
	reconnectMax = 2 * time.Second
)

// session is the Store's one long-lived connection. It holds the process
// lock — a session-level advisory lock, exclusive or shared (Config.Shared),
// which PostgreSQL drops when the connection ends, so a crashed process
// leaves no stale lock — and LISTENs for commits of every process when
// the Store has an OnCommit. One goroutine owns the connection: it waits
// for notifications and, when the connection drops (PostgreSQL
// restarted), reconnects with backoff, retakes the lock and calls
// OnCommit once, since notifications sent meanwhile are lost.
type session struct {
	cfg      *pgx.ConnConfig
	shared   bool
	onCommit func()
	log      zerolog.Logger

	lockErr atomic.Pointer[error] // non-nil while the lock is not held
	pid     atomic.Uint32         // the session's backend pid, 0 while disconnected
	cancel  context.CancelFunc
	done    chan struct{}
	once    sync.Once
}

// openSession connects, takes the lock and starts the goroutine.
func openSession(ctx context.Context, cfg *pgx.ConnConfig, shared bool, onCommit func(), log zerolog.Logger) (*session, error) {
	se := &session{cfg: cfg, shared: shared, onCommit: onCommit, log: log, done: make(chan struct{})}
	conn, err := se.connect(ctx)
	if err != nil {
		return nil, err
	}
	se.pid.Store(conn.PgConn().PID())
	lctx, cancel := context.WithCancel(context.Background())
	se.cancel = cancel
	go se.run(lctx, conn)
	return se, nil
}

// connect opens the connection, takes the lock and LISTENs.
func (se *session) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, se.cfg)
	if err != nil {
		return nil, err
	}
	fn := "pg_try_advisory_lock"
	if se.shared {
		fn = "pg_try_advisory_lock_shared"
	}
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT "+fn+"($1)", lockProcess).Scan(&ok); err != nil {
		_ = conn.Close(context.Background())
		return nil, err
	}
	if !ok {
		_ = conn.Close(context.Background())
		return nil, &eventlog.LockedError{
			File:   fmt.Sprintf("the PostgreSQL database %s/%s (advisory lock %d)", se.cfg.Host, se.cfg.Database, lockProcess),
			Shared: se.shared,
		}
	}
	if se.onCommit != nil {
		if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
			_ = conn.Close(context.Background())
			return nil, err
		}
	}
	return conn, nil
}

func (se *session) run(ctx context.Context, conn *pgx.Conn) {
	defer close(se.done)
	backoff := reconnectMin
	for {
		if conn != nil {
			_, err := conn.WaitForNotification(ctx)
			if err == nil {
				backoff = reconnectMin
				se.onCommit() // only LISTENing sessions get notifications
				continue
			}
			se.pid.Store(0)
			_ = conn.Close(context.Background())
			conn = nil
			if ctx.Err() != nil {
				return
			}
			e := fmt.Errorf("%w: session connection lost, process lock not held: %w", eventlog.ErrUnavailable, err)
			se.lockErr.Store(&e)
			se.log.Warn().Err(err).Msg("session connection lost; reconnecting")
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, reconnectMax)
		cctx, cancel := context.WithTimeout(ctx, se.cfg.ConnectTimeout+time.Second)
		c, err := se.connect(cctx)
		cancel()
		if err != nil {
			var le *eventlog.LockedError
			if errors.As(err, &le) {
				// Another process took the database while we were away:
				// this one must not go on writing as if alone.
				e := fmt.Errorf("%w: %w", eventlog.ErrUnavailable, err)
				se.lockErr.Store(&e)
				se.log.Error().Err(err).Msg("process lock taken by another process")
			}
			continue
		}
		conn = c
		se.pid.Store(c.PgConn().PID())
		se.lockErr.Store(nil)
		se.log.Info().Msg("session reconnected")
		if se.onCommit != nil {
			se.onCommit()
		}
	}
}

// err is nil while the session holds the lock.
func (se *session) err() error {
	if p := se.lockErr.Load(); p != nil {
		return *p
	}
	return nil
}

// close stops the goroutine, which closes the connection (releasing the
// lock), and waits for it.
func (se *session) close() {
	se.once.Do(func() {
		se.cancel()
		<-se.done
	})
}
