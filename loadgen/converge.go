package loadgen

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// maxFailures bounds the convergence failures listed in a report.
const maxFailures = 20

// docGroup is every client of one document.
type docGroup struct {
	goDocs []*goDoc
	raws   []*rawReader
	rawEds []*rawEditor
}

// truth is what a fresh client reads from the server.
type truth struct {
	text    string
	version int64
}

// convergence checks every client against the server. Go clients first
// wait until their own edits are acknowledged (WaitSynced); then a fresh
// client per document reads the server's text and version, every client
// must reach that version, and Go clients must hold exactly that text.
func (r *run) convergence(ctx context.Context, groups map[string]*docGroup) *Convergence {
	ctx, cancel := context.WithTimeout(ctx, r.opts.SyncTimeout)
	defer cancel()
	res := &Convergence{Checked: true, Docs: len(groups)}
	var mu sync.Mutex
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(res.Failures) < maxFailures {
			res.Failures = append(res.Failures, fmt.Sprintf(format, args...))
		}
	}
	var all []*goDoc
	for _, g := range groups {
		all = append(all, g.goDocs...)
		res.Clients += len(g.goDocs) + len(g.raws) + len(g.rawEds)
	}
	parallel(len(all), 64, func(i int) {
		if err := all[i].d.WaitSynced(ctx); err != nil {
			if all[i].d.Pending() {
				r.rec.unacked.Add(1)
			}
			fail("%s: %v", all[i].name, err)
		}
	})
	r.drainRawEditors(ctx, groups, fail)
	names := make([]string, 0, len(groups))
	for n := range groups {
		names = append(names, n)
	}
	sort.Strings(names)
	parallel(len(names), 8, func(i int) {
		r.checkDoc(ctx, i, names[i], groups[names[i]], fail)
	})
	res.OK = len(res.Failures) == 0
	return res
}

// drainRawEditors waits until no raw editor has edits unacknowledged.
func (r *run) drainRawEditors(ctx context.Context, groups map[string]*docGroup, fail func(string, ...any)) {
	for _, g := range groups {
		for _, e := range g.rawEds {
			for e.pending() && sleepCtx(ctx, 10*time.Millisecond) {
			}
			if e.pending() {
				r.rec.unacked.Add(1)
				fail("raw editor %d on %s: edits still unacknowledged", e.idx, e.doc)
			}
		}
	}
}

// checkDoc compares one document's clients with a fresh read.
func (r *run) checkDoc(ctx context.Context, i int, doc string, g *docGroup, fail func(string, ...any)) {
	t, err := r.readBack(ctx, i, doc)
	if err != nil {
		fail("%s: read back: %v", doc, err)
		return
	}
	for _, gd := range g.goDocs {
		if !waitVersion(ctx, t.version, gd.d.Version) {
			fail("%s on %s: at version %d, server at %d", gd.name, doc, gd.d.Version(), t.version)
			continue
		}
		if txt := gd.d.Text(); txt != t.text {
			fail("%s on %s: text differs from the server's at version %d (%d bytes, server %d)",
				gd.name, doc, t.version, len(txt), len(t.text))
		}
	}
	for _, rr := range g.raws {
		if !waitVersion(ctx, t.version, rr.next.Load) {
			fail("reader %d on %s: saw up to version %d, server at %d", rr.idx, doc, rr.next.Load(), t.version)
		}
	}
	for _, e := range g.rawEds {
		if !waitVersion(ctx, t.version, e.next.Load) {
			fail("raw editor %d on %s: saw up to version %d, server at %d", e.idx, doc, e.next.Load(), t.version)
		}
	}
}

// readBack opens doc on a fresh Go client and returns what it reads.
func (r *run) readBack(ctx context.Context, i int, doc string) (truth, error) {
	dl, err := r.dialers(0)
	if err != nil {
		return truth{}, err
	}
	gd, _, err := r.openGoDoc(ctx, i, "check", doc, dl, hooks{})
	if err != nil {
		return truth{}, err
	}
	defer gd.c.Close()
	return truth{text: gd.d.Text(), version: gd.d.Version()}, nil
}

// waitVersion polls get until it returns want, for as long as ctx allows.
func waitVersion(ctx context.Context, want int64, get func() int64) bool {
	for get() != want {
		if get() > want || !sleepCtx(ctx, 10*time.Millisecond) {
			return false
		}
	}
	return true
}

// parallel calls fn(i) for every i in [0, n), at most limit at a time,
// and returns when all have returned.
func parallel(n, limit int, fn func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, limit)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(i)
		})
	}
	wg.Wait()
}
