package loadgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
	"unicode/utf8"

	"github.com/collabedit/collab/client"
	"github.com/collabedit/collab/document"
)

// lateAfter is how far behind its schedule a keystroke may be before it
// counts as late (the generator is overloaded); past resyncAfter the
// schedule restarts from now instead of bursting to catch up.
const (
	lateAfter   = 100 * time.Millisecond
	resyncAfter = time.Second
)

// goDoc is a Go client with one open document: an editor or a watching
// reader in client mode.
type goDoc struct {
	name string // for convergence failures
	c    *client.Client
	d    *client.Doc
	rcv  *receiver
}

// hooks are what a Go client reports back to the run.
type hooks struct {
	snd    *sender   // nil: this client does not edit
	rcv    *receiver // nil: remote ops are not timed
	typist *typist   // nil: no caret to move
}

// openGoDoc dials client i and opens doc on it; lat is the time from
// dialling to holding the document's snapshot.
func (r *run) openGoDoc(ctx context.Context, i int, role, doc string, dl *dialers, h hooks) (gd *goDoc, lat time.Duration, err error) {
	url, fallbacks := r.urls.forClient(i)
	cfg := client.Config{
		URL: url, Fallbacks: fallbacks, Dialer: dl.pick(), Logger: r.opts.Logger, FollowOwner: r.opts.FollowOwner,
		ClientID: fmt.Sprintf("%s%s%d", r.tag, role, i),
		OnAck: func(_, _ string, version int64, latency time.Duration) {
			if h.snd != nil {
				h.snd.acked(version, latency)
			}
		},
		OnRemote: func(_ string, version int64, id string, op document.Op) {
			if h.typist != nil {
				h.typist.remote(op)
			}
			if h.rcv != nil && id != "" {
				h.rcv.received(version)
			}
		},
		OnError: func(_ string, err error) { r.rec.clientError(err) },
	}
	cctx, cancel := context.WithTimeout(ctx, r.opts.ConnectTimeout)
	defer cancel()
	start := time.Now()
	c, err := client.Dial(cctx, cfg)
	if err != nil {
		return nil, 0, err
	}
	d, err := c.Open(cctx, doc)
	if err != nil {
		_ = c.Close()
		return nil, 0, err
	}
	return &goDoc{name: cfg.ClientID, c: c, d: d, rcv: h.rcv}, time.Since(start), nil
}

// editor is a typing Go client.
type editor struct {
	*goDoc
	t *typist
}

// typeUntil makes keystrokes at rate per second until ctx ends.
func (e *editor) typeUntil(ctx context.Context, rec *recorder, rate float64, seed uint64) {
	runSchedule(ctx, rec, rate, seed, func() { e.keystroke(rec) })
}

// runSchedule calls key rate times per second, each interval drawn
// uniformly from 0.5 to 1.5 times the mean, on an open-loop schedule: a
// slow ack never delays the next keystroke, as with a person typing.
func runSchedule(ctx context.Context, rec *recorder, rate float64, seed uint64, key func()) {
	rnd := rand.New(rand.NewPCG(seed, 1))
	mean := time.Duration(float64(time.Second) / rate)
	next := time.Now().Add(time.Duration(rnd.Int64N(int64(mean) + 1)))
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if late := time.Since(next); late > lateAfter {
			rec.late.Add(1)
			if late > resyncAfter {
				next = time.Now()
			}
		}
		key()
		next = next.Add(time.Duration(float64(mean) * (0.5 + rnd.Float64())))
	}
}

func (e *editor) keystroke(rec *recorder) {
	op, commit := e.t.keystroke()
	if err := e.d.Submit(op); err != nil {
		// A remote delete reached the text before its hook told the
		// typist: learn the real length and type again next time.
		rec.skipped.Add(1)
		e.t.reset(utf8.RuneCountInString(e.d.Text()))
		return
	}
	commit()
	rec.edits.Add(1)
}
