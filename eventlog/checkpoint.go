package eventlog

import (
	"context"
	"database/sql"
	"time"
)

// Checkpoints run on their own connection and goroutine. SQLite's
// automatic checkpoint runs inside the COMMIT that crosses 1,000 WAL
// pages, copying the WAL into the database and fsyncing it while the
// writer (and every op waiting for an ack) waits: at a moderate 2,000 ops/s
// that put the writer in COMMIT for 50–240 ms several times a second and
// doubled the ack p99. A passive checkpoint here never blocks the writer,
// and SQLite reuses the WAL from its start once a checkpoint has caught up.
const (
	defaultCheckpointEvery = 250 * time.Millisecond
	// walWarnPages: a WAL this long after a checkpoint means a reader holds
	// an old snapshot and the checkpoint cannot catch up (≈200 MB at 4 KB).
	walWarnPages = 50_000
)

// startCheckpointer turns off the write connection's automatic checkpoint
// and starts the goroutine that checkpoints every interval, until
// stopCheckpointer.
func (s *Store) startCheckpointer(path string, busy, every time.Duration) error {
	ctx := context.Background()
	if _, err := s.conn.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0"); err != nil {
		return err
	}
	var err error
	if s.ckdb, err = sql.Open("sqlite3", dsn(path, busy, "")); err != nil {
		return err
	}
	s.ckdb.SetMaxOpenConns(1)
	s.ckStop, s.ckDone = make(chan struct{}), make(chan struct{})
	go s.checkpointLoop(every)
	return nil
}

func (s *Store) checkpointLoop(every time.Duration) {
	defer close(s.ckDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.checkpoint()
		case <-s.ckStop:
			return
		}
	}
}

// checkpoint runs one passive checkpoint. Busy (another process is
// checkpointing) is not an error: that one does the work.
func (s *Store) checkpoint() {
	var busy, walPages, done int
	err := s.ckdb.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &walPages, &done)
	switch {
	case err != nil:
		s.log.Warn().Err(err).Msg("checkpoint")
	case walPages-done > walWarnPages:
		s.log.Warn().Int("wal_pages", walPages).Int("checkpointed", done).Msg("checkpoint cannot catch up; is a reader holding an old snapshot?")
	}
	s.checkpoints.Add(1)
}

// stopCheckpointer stops the goroutine and waits for it; safe to call
// when it never started.
func (s *Store) stopCheckpointer() {
	if s.ckStop != nil {
		close(s.ckStop)
		<-s.ckDone
		s.ckStop = nil
	}
}
