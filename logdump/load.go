package logdump

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
)

// Sink is what Read loads into: any event log (eventlog.Log).
type Sink interface {
	AppendAsync(e eventlog.Event, done func(eventlog.Event, error))
	PutSnapshot(ctx context.Context, snap eventlog.Snapshot) error
	LastSeq(ctx context.Context) (int64, error)
}

// ErrNotEmpty refuses to load into a log that already holds events:
// versions and op ids would collide, and a partial merge is no move.
var ErrNotEmpty = errors.New("target event log is not empty")

// Config tunes Read. The zero value snapshots every 200 versions.
type Config struct {
	// SnapshotEvery is how many versions apart Read takes each
	// document's snapshots (the server's -snapshot-every, default 200);
	// negative takes none.
	SnapshotEvery int
}

// Stats says what Read did.
type Stats struct {
	Events    int64 // events stored
	Skipped   int64 // purge events of purged documents (package comment)
	Docs      int   // documents stored
	Snapshots int64 // snapshots taken
}

// inFlight bounds the appends Read has queued and not seen answered:
// enough to fill group commits, far below a store's queue (4096).
const inFlight = 1024

// Read checks the dump in r (as Verify), then loads it into dst, which
// must hold no events. The dump is read twice, so r must seek. On an
// error the target holds a prefix of the dump: empty it before trying
// again.
func Read(ctx context.Context, r io.ReadSeeker, dst Sink, cfg Config) (Stats, error) {
	if cfg.SnapshotEvery == 0 {
		cfg.SnapshotEvery = 200
	}
	var st Stats
	if last, err := dst.LastSeq(ctx); err != nil {
		return st, fmt.Errorf("load: %w", err)
	} else if last != 0 {
		return st, fmt.Errorf("load: %w (last seq %d)", ErrNotEmpty, last)
	}
	if _, err := Verify(r); err != nil {
		return st, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return st, fmt.Errorf("load: rewind: %w", err)
	}
	l := &loader{ctx: ctx, dst: dst, every: int64(cfg.SnapshotEvery), docs: map[string]*document.Text{},
		sem: make(chan struct{}, inFlight)}
	_, err := scan(r, l.event)
	l.wg.Wait()
	if err == nil {
		err = l.firstErr()
	}
	l.st.Docs = len(l.docs)
	return l.st, err
}

// loader loads one dump's events in order.
type loader struct {
	ctx   context.Context
	dst   Sink
	every int64
	docs  map[string]*document.Text // nil text: deleted, no more snapshots
	st    Stats
	sem   chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	err   error
}

func (l *loader) event(ln line) error {
	if err := l.firstErr(); err != nil {
		return err
	}
	e := ln.event()
	text, seen := l.docs[e.Doc]
	if e.Kind == eventlog.Purge && !seen {
		l.st.Skipped++
		return nil
	}
	if !seen {
		text = document.NewText("")
		l.docs[e.Doc] = text
	}
	if text != nil {
		var op document.Op
		if err := op.UnmarshalJSON(e.Op); err != nil {
			return fmt.Errorf("%w: %s version %d: %v", ErrCorrupt, e.Doc, e.Version, err)
		}
		if err := text.Apply(op); err != nil {
			return fmt.Errorf("%w: %s version %d does not apply: %v", ErrCorrupt, e.Doc, e.Version, err)
		}
	}
	if err := l.append(e); err != nil {
		return err
	}
	switch {
	case e.Kind.Tombstone():
		l.docs[e.Doc] = nil
	case text != nil && e.Kind == eventlog.Op && l.every > 0 && (e.Version+1)%l.every == 0:
		// Queued after the event, so it commits with it or after it.
		if err := l.dst.PutSnapshot(l.ctx, eventlog.Snapshot{Doc: e.Doc, Version: e.Version + 1, Text: text.String(), Time: e.Time}); err != nil {
			return fmt.Errorf("load: snapshot of %s at %d: %w", e.Doc, e.Version+1, err)
		}
		l.st.Snapshots++
	}
	return nil
}

func (l *loader) append(e eventlog.Event) error {
	select {
	case l.sem <- struct{}{}:
	case <-l.ctx.Done():
		return fmt.Errorf("load: %w", l.ctx.Err())
	}
	l.wg.Add(1)
	l.st.Events++
	l.dst.AppendAsync(e, func(_ eventlog.Event, err error) {
		if err != nil {
			l.fail(fmt.Errorf("load: %s version %d: %w", e.Doc, e.Version, err))
		}
		<-l.sem
		l.wg.Done()
	})
	return nil
}

func (l *loader) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		l.err = err
	}
}

func (l *loader) firstErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}
