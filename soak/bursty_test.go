package soak

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// burstDriver edits one document in bursts separated by pauses longer
// than the server's idle timeout, with every participant closing the
// document for the pause, so that it is unloaded everywhere and reloaded
// from the log by the next burst: the path where rooms are torn down and
// rebuilt under live clients. Its goroutine stops when the context given
// to start ends, leaving the document open for every participant.
type burstDriver struct {
	e       *env
	cl      *cluster
	doc     string
	editors []*editor
	raws    []*rawClient
	rng     *rand.Rand
	done    chan struct{}

	mu sync.Mutex
	// pauses: all of them; quiet: those no fault or probe overlapped;
	// unloads: quiet pauses after which the lease was free.
	pauses, quiet, unloads int
}

func (b *burstDriver) start(ctx context.Context) {
	b.done = make(chan struct{})
	go b.run(ctx)
}

// wait waits for the driver to stop, after its context ended.
func (b *burstDriver) wait() { <-b.done }

// counts returns how many pauses there were, how many no fault
// disturbed, and after how many of those the document's lease was found
// released, i.e. its owner had unloaded it.
func (b *burstDriver) counts() (pauses, quiet, unloads int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pauses, b.quiet, b.unloads
}

func (b *burstDriver) run(ctx context.Context) {
	defer close(b.done)
	set := b.e.set
	// A burst: 2–4 s of typing (one to two idle timeouts), or 15–30 s
	// with the default timers.
	burst := set.idleTimeout
	if set.defaultTimers {
		burst = 15 * time.Second
	}
	pause := set.idleTimeout + max(time.Second, set.idleTimeout/2)
	for sleepCtx(ctx, burst+time.Duration(b.rng.Int64N(int64(burst)+1))) {
		b.closeAll(ctx)
		closed := time.Now()
		sleepCtx(ctx, pause)
		b.checkUnloaded(ctx, closed)
		b.openAll() // also after ctx ended: the run ends with the document open
	}
}

// closeAll stops typing and closes the document for every participant,
// each after its edits are acknowledged.
func (b *burstDriver) closeAll(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, b.e.set.drainTimeout())
	defer cancel()
	var wg sync.WaitGroup
	for _, ed := range b.editors {
		ed.typing.Store(false)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ed.closeDoc(ctx); err != nil && ctx.Err() == nil {
				b.e.found.add(checkConverge, ed.cfg.name, b.doc, "edits not acknowledged within %v, closing for a pause: %v",
					b.e.set.drainTimeout(), err)
			}
		}()
	}
	for _, r := range b.raws {
		r.writing.Store(false)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.command(ctx, false)
		}()
	}
	wg.Wait()
}

// checkUnloaded counts the pause as an unload if the document's lease is
// free: the owner releases it when it unloads the document, and renews
// it every third of the TTL while the document is loaded there. A pause
// that a fault overlapped proves nothing either way (a probe reloads the
// document; Redis down keeps the lease), so it is not judged.
func (b *burstDriver) checkUnloaded(ctx context.Context, closed time.Time) {
	quiet := !b.e.faults.overlaps(closed, time.Now())
	holder, err := b.cl.leaseHolder(ctx, b.doc)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pauses++
	if quiet && ctx.Err() == nil {
		b.quiet++
		if err == nil && holder == "" {
			b.unloads++
		}
	}
}

// openAll reopens the document for every participant and resumes typing.
func (b *burstDriver) openAll() {
	ctx, cancel := context.WithTimeout(context.Background(), b.e.set.drainTimeout())
	defer cancel()
	var wg sync.WaitGroup
	for _, ed := range b.editors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ed.open(ctx); err != nil {
				b.e.found.add(checkConverge, ed.cfg.name, b.doc, "reopen after a pause: %v", err)
				return
			}
			ed.typing.Store(true)
		}()
	}
	for _, r := range b.raws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r.command(ctx, true) {
				r.writing.Store(true)
			}
		}()
	}
	wg.Wait()
}
