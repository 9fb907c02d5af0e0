package soak

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/collabedit/collab/internal/poll"
)

// drain waits, up to the drain timeout, until every editor's edits are
// acknowledged and every reader's op is. It returns the client ids still
// waiting then (each may have one op in the log it was not acknowledged
// for); a reader's unanswered op is unsettled in the ledger instead.
func drain(e *env, editors []*editor, raws []*rawClient) map[string]bool {
	ctx, cancel := context.WithTimeout(context.Background(), e.set.drainTimeout())
	defer cancel()
	var (
		mu       sync.Mutex
		unsynced = make(map[string]bool)
		wg       sync.WaitGroup
	)
	for _, ed := range editors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := drainEditor(ctx, ed); err != nil {
				e.found.add(checkConverge, ed.cfg.name, ed.cfg.doc, "edits not acknowledged %v after editing stopped: %v",
					e.set.drainTimeout(), err)
				mu.Lock()
				unsynced[ed.cfg.name] = true
				mu.Unlock()
			}
		}()
	}
	for _, r := range raws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if poll.Wait(ctx, func() bool { _, _, p := r.state(); return p == "" }) {
				return
			}
			v, _, id := r.state()
			e.ledger.unsettle(r.cfg.name, r.cfg.doc, id)
			e.found.add(checkConverge, r.cfg.name, r.cfg.doc, "op %s (at version %d) not acknowledged %v after editing stopped",
				id, v, e.set.drainTimeout())
		}()
	}
	wg.Wait()
	return unsynced
}

// errNotOpen: an editor ended a run with its document closed (a reopen
// after a burst failed).
var errNotOpen = errors.New("document not open")

func drainEditor(ctx context.Context, ed *editor) error {
	d := ed.doc()
	if d == nil {
		return errNotOpen
	}
	return d.WaitSynced(ctx)
}

// converge waits until every member of each document is at the log's
// version and text; members already reported as unsynced are skipped.
// The log was read after every op was acknowledged, so a healthy cluster
// needs only the last broadcasts' time; the bound is generous.
func converge(e *env, byDoc map[string][]member, logs map[string]docLog, unsynced map[string]bool) {
	ctx, cancel := context.WithTimeout(context.Background(), max(20*time.Second, 4*e.set.leaseTTL))
	defer cancel()
	var wg sync.WaitGroup
	for doc, members := range byDoc {
		want := logs[doc]
		for _, m := range members {
			if unsynced[m.memberName()] {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if poll.Wait(ctx, func() bool { v, text, open := m.position(); return open && v == want.version && text == want.text }) {
					return
				}
				v, text, open := m.position()
				e.found.add(checkConverge, m.memberName(), doc, "%s", divergence(v, text, open, want))
			}()
		}
	}
	wg.Wait()
}

// divergence describes how a client's copy differs from the log's.
func divergence(v int64, text string, open bool, want docLog) string {
	if !open {
		return "document not open at the end"
	}
	a, b := []rune(text), []rune(want.text)
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return fmt.Sprintf("at version %d with %d code points; the log is at version %d with %d; first difference at code point %d",
		v, utf8.RuneCountInString(text), want.version, len(b), i)
}

// docFigures are one document's numbers at the end of a run.
type docFigures struct {
	Doc    string `json:"doc"`
	Events int    `json:"events"`
	Acked  int    `json:"acked"`
	Length int    `json:"length"` // code points
}

// reconcileAll checks each document's log against the ledger and files
// lost, misplaced and doubled ops.
func reconcileAll(e *env, logs map[string]docLog, unsynced map[string]bool) []docFigures {
	var out []docFigures
	for _, doc := range sortedKeys(logs) {
		l := logs[doc]
		acked, unsettled := e.ledger.account(doc)
		r := reconcile(l, acked, unsettled, unsynced)
		for _, s := range r.lost {
			e.found.add(checkLost, "log", doc, "%s", s)
		}
		for _, s := range r.misplaced {
			e.found.add(checkAckVersion, "log", doc, "%s", s)
		}
		for _, s := range r.doubled {
			e.found.add(checkDoubled, "log", doc, "%s", s)
		}
		out = append(out, docFigures{Doc: doc, Events: r.events, Acked: r.acked, Length: utf8.RuneCountInString(l.text)})
	}
	return out
}
