package projection

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/collabedit/collab/eventlog"
)

// request asks the loop to do something between batches (Rebuild).
type request struct {
	name  string
	reply chan error
}

// loop is the projector's goroutine: the only writer of the read-model
// database. It applies one batch per generation per pass, so a rebuild
// advances beside the serving generation, which keeps following the log.
func (pr *Projector) loop(ctx context.Context) {
	defer close(pr.done)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		more := pr.pass(ctx)
		if ctx.Err() != nil {
			return
		}
		if more {
			select {
			case req := <-pr.reqs:
				req.reply <- pr.rebuild(ctx, req.name)
			default:
			}
			continue
		}
		timer.Reset(pr.PollInterval)
		select {
		case <-ctx.Done():
			return
		case <-pr.wake:
		case <-timer.C:
		case req := <-pr.reqs:
			req.reply <- pr.rebuild(ctx, req.name)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		if pr.Gather > 0 {
			pr.sleep(ctx, pr.Gather) // let a busy log's commits gather into one batch
		}
	}
}

// batchCache keeps the last batch read, so that projections at the same
// checkpoint share one read of the log.
type batchCache struct {
	after int64
	evs   []eventlog.Event
	ok    bool
}

// pass reads the head and applies at most one batch to each generation
// that is behind it. It reports whether any generation has more to do.
func (pr *Projector) pass(ctx context.Context) bool {
	head, err := pr.log.LastSeq(ctx)
	if err != nil {
		if ctx.Err() == nil {
			pr.Logger.Warn().Err(err).Msg("projector: read the log's head")
			pr.sleep(ctx, pr.RetryInterval)
		}
		return false
	}
	pr.head.Store(head)
	var cache batchCache
	more := false
	for _, r := range pr.runners {
		if ctx.Err() != nil {
			return false
		}
		if pr.step(ctx, r, head, &cache) {
			more = true
		}
	}
	return more
}

// step advances r's generations by one batch each; true if more remain.
func (pr *Projector) step(ctx context.Context, r *runner, head int64, cache *batchCache) bool {
	r.mu.Lock()
	retryAt := r.retryAt
	r.mu.Unlock()
	if time.Now().Before(retryAt) {
		return false
	}
	more := false
	for _, g := range r.gens() {
		// A generation of another version keeps serving, frozen, until
		// the rebuild replaces it: this build's Apply is not its layout.
		if g.stopped || g.seq >= head || g.version != r.p.Version() {
			continue
		}
		evs, err := pr.fetch(ctx, g.seq, cache)
		if err == nil && len(evs) > 0 {
			r.mu.Lock()
			r.pending = evs[0].Time
			r.mu.Unlock()
			err = pr.applyBatch(ctx, r, g, evs)
		}
		if errors.Is(err, errMoved) {
			// Another process moved the checkpoints: take them from the file.
			r.log.Info().Err(err).Msg("reloading checkpoints")
			err = pr.reload(ctx, r)
		}
		if err != nil {
			if ctx.Err() == nil {
				r.log.Error().Err(err).Int("generation", g.t.Generation).Int64("seq", g.seq).
					Dur("retry_in", pr.RetryInterval).Msg("projection batch failed")
				r.setErr(err, time.Now().Add(pr.RetryInterval))
			}
			return false
		}
		if g.seq < head && !g.stopped {
			more = true
		}
	}
	r.mu.Lock()
	if r.serving.seq >= head || r.serving.version != r.p.Version() {
		r.pending = time.Time{}
	}
	b := r.building
	r.mu.Unlock()
	if b != nil && !b.stopped && b.seq >= head {
		if err := pr.swap(ctx, r); err != nil && ctx.Err() == nil {
			r.log.Error().Err(err).Msg("projection swap failed")
			r.setErr(err, time.Now().Add(pr.RetryInterval))
		}
	}
	return more
}

func (pr *Projector) fetch(ctx context.Context, after int64, c *batchCache) ([]eventlog.Event, error) {
	if c.ok && c.after == after {
		return c.evs, nil
	}
	evs, err := pr.log.Since(ctx, after, pr.BatchSize)
	if err != nil {
		return nil, err
	}
	*c = batchCache{after: after, evs: evs, ok: true}
	return evs, nil
}

func (pr *Projector) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Rebuild starts building a new generation of the named projection from
// the start of the log while the serving one keeps answering reads; it
// is swapped in once caught up. A rebuild in progress starts over. It
// returns once the new generation's tables exist.
func (pr *Projector) Rebuild(ctx context.Context, name string) error {
	if pr.byName[name] == nil {
		return ErrUnknownProjection
	}
	if !pr.open.Load() {
		return ErrClosed
	}
	req := request{name: name, reply: make(chan error, 1)}
	select {
	case pr.reqs <- req:
	case <-pr.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// rebuild runs on the loop: drop any rebuild in progress, create the new
// generation.
func (pr *Projector) rebuild(ctx context.Context, name string) error {
	r := pr.byName[name]
	r.mu.Lock()
	old := r.building
	r.mu.Unlock()
	if old != nil {
		if err := pr.inTx(ctx, func(tx *sql.Tx) error { return dropGen(ctx, tx, old.t) }); err != nil {
			return err
		}
	}
	g, err := pr.createGen(ctx, r, false)
	if err != nil {
		if old != nil {
			r.mu.Lock()
			r.building = nil
			r.mu.Unlock()
		}
		return fmt.Errorf("projection: rebuild %s: %w", name, err)
	}
	r.mu.Lock()
	r.building = g
	r.retryAt = time.Time{}
	r.mu.Unlock()
	r.log.Info().Int("generation", g.t.Generation).Int("version", g.version).Msg("rebuilding projection")
	return nil
}
