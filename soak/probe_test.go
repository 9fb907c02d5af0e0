package soak

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/collabedit/collab/servertest"
)

// probeRetry is how soon a probe resends after unavailable: 50 ms gives
// the recovery time to within 5 % of the 1 s lease TTL.
const probeRetry = 50 * time.Millisecond

// probeResult is one probe: whether a new op on doc, sent to one process
// over a fresh unrouted socket, was acknowledged, and how long after the
// fault's end.
type probeResult struct {
	doc, proc string
	acked     bool
	after     time.Duration // from the fault's end to the ack
}

func (p probeResult) String() string {
	if !p.acked {
		return fmt.Sprintf("%s@%s never acknowledged", p.doc, p.proc)
	}
	return fmt.Sprintf("%s@%s %.2fs", p.doc, p.proc, p.after.Seconds())
}

// probeAll probes every document on every running process at once,
// starting at the fault's end, each until acknowledged or the probe
// deadline.
func probeAll(e *env, procs []*servertest.Server, docs []string, fault int, end time.Time) []probeResult {
	var (
		mu  sync.Mutex
		out []probeResult
		wg  sync.WaitGroup
	)
	for _, p := range procs {
		if !p.Running() {
			continue
		}
		for _, doc := range docs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := probe(e, p, doc, fmt.Sprintf("f%d-%s-%s", fault, p.Name(), doc), end)
				mu.Lock()
				out = append(out, r)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	// Never acknowledged first, then slowest first.
	sort.Slice(out, func(i, j int) bool {
		if out[i].acked != out[j].acked {
			return !out[i].acked
		}
		return out[i].after > out[j].after
	})
	return out
}

// probe opens doc on p without routing, sends one op and retries it on
// unavailable until it is acknowledged. The probe is a raw client, so
// its frames are checked like a reader's. An op never answered is
// unsettled in the ledger: it may yet be applied.
func probe(e *env, p *servertest.Server, doc, name string, end time.Time) probeResult {
	ctx, cancel := context.WithDeadline(context.Background(), end.Add(e.set.probeDeadline()))
	defer cancel()
	c := startRaw(ctx, e, rawConfig{name: name, doc: doc, endpoints: []string{p.URL()}, marker: "⚑",
		probe: true, retry: probeRetry}, e.set.rng(0))
	c.wait()
	r := probeResult{doc: doc, proc: p.Name()}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ackedAt.IsZero() {
		r.acked, r.after = true, c.ackedAt.Sub(end)
	} else if id := c.doc.pending(); id != "" {
		e.ledger.unsettle(name, doc, id)
	}
	return r
}
