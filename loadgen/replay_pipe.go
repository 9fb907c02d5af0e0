package loadgen

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/protocol"
)

// pipe is one pipelined replay copy: a writer sending every patch as its
// own op, made against the version all earlier ones produce (the copy is
// its document's only writer, so op k applies at base+k untransformed),
// with up to window unacknowledged; and a reader taking the acks.
type pipe struct {
	r       *run
	i       int
	doc     string
	c       *rawConn
	base    int64
	ops     []document.Op
	sentAt  []atomic.Int64 // per op, recorder time of sending (ns)
	slots   chan struct{}  // a token per op in flight
	sent    atomic.Uint64
	refused atomic.Uint64
	acked   atomic.Uint64
	fail    atomic.Pointer[string]
}

// replayPipelined replays one copy over a bare socket, window ops in
// flight. The server must allow the rate (its -rate flag is 1,000
// messages/s per connection by default): a refused op ends the copy,
// since every later op was made against its version.
func (r *run) replayPipelined(ctx context.Context, i int, lt *loadedTrace, doc string, window int) copyResult {
	dl, err := r.dialers(64 << 10)
	if err != nil {
		return copyResult{problem: err.Error()}
	}
	p, err := r.openPipe(ctx, i, doc, dl, lt.allOps(), window)
	if err != nil {
		r.rec.connectFailed(describeFailure(err))
		return copyResult{problem: fmt.Sprintf("connect: %v", err)}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		p.readAcks()
		cancel() // all acked, or the socket failed: the writer stops too
	})
	wg.Go(func() {
		<-ctx.Done()
		p.c.close() // unblocks the reader if the writer gave up
	})
	start := time.Now()
	p.write(ctx, lt, start)
	wg.Wait()
	r.rec.disconnected()
	res := copyResult{elapsed: time.Since(start), acked: p.acked.Load()}
	if f := p.fail.Load(); f != nil {
		res.problem = *f
		r.rec.unacked.Add(p.sent.Load() - res.acked - p.refused.Load())
		return res
	}
	res.problem = r.verify(context.WithoutCancel(ctx), i, doc, lt)
	return res
}

func (r *run) openPipe(ctx context.Context, i int, doc string, dl *dialers, ops []document.Op, window int) (*pipe, error) {
	cctx, cancel := context.WithTimeout(ctx, r.opts.ConnectTimeout)
	defer cancel()
	url, _ := r.urls.forClient(i)
	start := time.Now()
	c, err := dialRaw(cctx, dl.pick(), url)
	if err != nil {
		return nil, err
	}
	if err := c.send(openFrame(doc, 0, false)); err != nil {
		c.close()
		return nil, err
	}
	base, err := c.awaitOpen(r.opts.ConnectTimeout, func(int64) {})
	if err != nil {
		c.close()
		return nil, err
	}
	r.rec.connected(i, time.Since(start))
	return &pipe{r: r, i: i, doc: doc, c: c, base: base, ops: ops,
		sentAt: make([]atomic.Int64, len(ops)), slots: make(chan struct{}, window)}, nil
}

// failWith records the first failure of the copy.
func (p *pipe) failWith(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.fail.CompareAndSwap(nil, &msg)
}

// write sends every op, waiting for a free slot and for the pace.
func (p *pipe) write(ctx context.Context, lt *loadedTrace, start time.Time) {
	lead := len(p.ops) - len(lt.ops)
	id := p.r.tag + "w" + strconv.Itoa(p.i) + ":"
	var buf []byte
	for k, op := range p.ops {
		select {
		case p.slots <- struct{}{}:
		case <-ctx.Done():
			p.failWith("stopped after %d of %d ops", k, len(p.ops))
			return
		}
		if !lt.pace.wait(ctx, max(k-lead, 0), start) {
			p.failWith("stopped after %d of %d ops", k, len(p.ops))
			return
		}
		buf = appendOpFrame(buf[:0], p.doc, p.base+int64(k), id+strconv.Itoa(k), op)
		p.sentAt[k].Store(int64(p.r.rec.now()))
		if err := p.c.send(buf); err != nil {
			p.failWith("op %d: %v", k, err)
			return
		}
		p.sent.Add(1)
		p.r.rec.sent.Add(1)
		p.r.rec.edits.Add(1)
	}
}

// readAcks takes acks until every op is acknowledged, the socket fails,
// or an op is refused.
func (p *pipe) readAcks() {
	for int(p.acked.Load()) < len(p.ops) {
		b, err := p.c.read()
		if err != nil {
			p.failWith("read after %d acks: %v", p.acked.Load(), err)
			return
		}
		kind, v, ok := scanFrame(b)
		switch {
		case ok && kind == kindAck:
			k := v - p.base
			if k < 0 || k >= int64(len(p.ops)) {
				p.failWith("ack for version %d, outside this copy's %d..%d", v, p.base, p.base+int64(len(p.ops)))
				return
			}
			p.r.rec.opAcked(p.i, p.r.rec.now()-time.Duration(p.sentAt[k].Load()))
			p.acked.Add(1)
			<-p.slots
		case kind == kindError:
			// Every error on this socket is about an op: the rate limit
			// answers without the op's id.
			err := decodeError(b)
			code := "unknown"
			var pe *protocol.Error
			if errors.As(err, &pe) {
				code = string(pe.Code)
			}
			p.refused.Add(1)
			p.r.rec.opRefused(code)
			p.r.rec.addError(fmt.Errorf("replay %s: %w", p.doc, err))
			p.failWith("refused after %d acks: %v%s", p.acked.Load(), err, rateHint(err))
			return
		}
	}
}

// rateHint explains the usual cause of a refused pipelined replay.
func rateHint(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Code == protocol.CodeRateLimited {
		return " (start the server with a higher -rate and -rate-burst)"
	}
	return ""
}
