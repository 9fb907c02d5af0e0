package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// rawReader watches one document over a bare socket: it checks that ops
// arrive in version order without gaps and times their delivery, but does
// not decode or apply them. Its run goroutine is the only reader of the
// socket; close may be called from any goroutine.
type rawReader struct {
	idx  int
	doc  string
	url  string
	r    *run
	dl   *dialers
	rcv  *receiver
	next atomic.Int64 // the next version expected: the convergence check reads it

	mu     sync.Mutex
	conn   *rawConn
	closed bool
}

func (r *run) newRawReader(i int, doc string, dl *dialers) *rawReader {
	url, _ := r.urls.forClient(i)
	return &rawReader{idx: i, doc: doc, url: url, r: r, dl: dl, rcv: newReceiver(r.rec, doc, i)}
}

// connect dials and opens the document: fresh (a snapshot), or resuming
// from the next expected version after a dropped connection (catch-up ops,
// then opened).
func (rr *rawReader) connect(ctx context.Context, resume bool) error {
	cctx, cancel := context.WithTimeout(ctx, rr.r.opts.ConnectTimeout)
	defer cancel()
	start := time.Now()
	c, err := dialRaw(cctx, rr.dl.pick(), rr.url)
	if err != nil {
		return err
	}
	if err := c.send(openFrame(rr.doc, rr.next.Load(), resume)); err != nil {
		c.close()
		return err
	}
	v, err := c.awaitOpen(rr.r.opts.ConnectTimeout, rr.onOp)
	if err != nil {
		c.close()
		return err
	}
	rr.next.Store(v)
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if rr.closed {
		c.close()
		return errors.New("reader closed")
	}
	rr.conn = c
	rr.r.rec.connected(rr.idx, time.Since(start))
	return nil
}

// onOp handles the op sequenced at v.
func (rr *rawReader) onOp(v int64) {
	next := rr.next.Load()
	switch {
	case v < next:
		return // catch-up overlapping what we had
	case v > next:
		rr.r.rec.addError(fmt.Errorf("reader %d on %s: gap: got version %d, expected %d", rr.idx, rr.doc, v, next))
	}
	rr.next.Store(v + 1)
	rr.rcv.received(v)
}

// run reads until ctx ends, reconnecting (with the version reached) if
// the server drops the socket, e.g. with 4001 for a slow reader.
func (rr *rawReader) run(ctx context.Context) {
	for {
		err := rr.readLoop()
		rr.r.rec.disconnected()
		if ctx.Err() != nil {
			return
		}
		rr.r.rec.addError(fmt.Errorf("reader %d on %s: %w; reconnecting", rr.idx, rr.doc, err))
		for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, 2*time.Second) {
			if !sleepCtx(ctx, backoff) {
				return
			}
			if err := rr.connect(ctx, true); err == nil {
				break
			}
		}
	}
}

func (rr *rawReader) readLoop() error {
	rr.mu.Lock()
	c := rr.conn
	rr.mu.Unlock()
	for {
		b, err := c.read()
		if err != nil {
			return err
		}
		kind, v, ok := scanFrame(b)
		switch {
		case ok && kind == kindOp:
			rr.onOp(v)
		case ok && kind == kindSnapshot:
			rr.next.Store(v) // the server resynced us
		case kind == kindError:
			rr.r.rec.addError(fmt.Errorf("reader %d on %s: %w", rr.idx, rr.doc, decodeError(b)))
		}
	}
}

// close stops the reader's socket; run returns once its ctx is done.
func (rr *rawReader) close() {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	rr.closed = true
	if rr.conn != nil {
		rr.conn.close()
	}
}

// sleepCtx sleeps for d unless ctx ends first; it reports whether it slept.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
