package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/collabedit/collab/document"
)

// rawEditor types over a bare socket. It runs the Go client's algorithm
// (one op in flight, later keystrokes composed into a buffer, remote ops
// transformed past both) on lengths and a caret instead of texts, and
// decodes only each remote op, not the whole frame: on a hot document a
// Go client decodes and applies every op twice (server and local text),
// which cost the load generator more CPU than the server's own fan-out.
// Convergence is then checked by version, as for raw readers.
//
// Its reader goroutine (run) and typing goroutine share the state under
// mu; every socket write happens under mu, so there is one writer.
type rawEditor struct {
	idx  int
	doc  string
	id   string // op id prefix
	r    *run
	c    *rawConn
	ty   *typist
	snd  *sender
	rcv  *receiver
	next atomic.Int64 // next version expected: read by the convergence check

	mu       sync.Mutex
	inflight document.Op
	sentAt   time.Duration
	buffer   document.Op
	seq      int
	dead     bool
}

// connectRawEditor dials and opens doc; the snapshot's text gives the
// starting length (the only frame decoded in full).
func (p *population) connectRawEditor(ctx context.Context, i int, doc string) (*rawEditor, error) {
	cctx, cancel := context.WithTimeout(ctx, p.r.opts.ConnectTimeout)
	defer cancel()
	url, _ := p.r.urls.forClient(i)
	start := time.Now()
	c, err := dialRaw(cctx, p.rawD.pick(), url)
	if err != nil {
		return nil, err
	}
	e := &rawEditor{idx: i, doc: doc, id: fmt.Sprintf("%sx%d:", p.r.tag, i), r: p.r, c: c,
		snd: newSender(p.r.rec, doc, i), rcv: newReceiver(p.r.rec, doc, i)}
	length, err := e.open()
	if err != nil {
		c.close()
		return nil, err
	}
	e.ty = newTypist(p.r.opts.Seed+uint64(i), length, p.t.MaxLen)
	p.r.rec.connected(i, time.Since(start))
	return e, nil
}

// open sends open and waits for the snapshot; it returns the text's length.
func (e *rawEditor) open() (int, error) {
	if err := e.c.send(openFrame(e.doc, 0, false)); err != nil {
		return 0, err
	}
	_ = e.c.ws.SetReadDeadline(time.Now().Add(e.r.opts.ConnectTimeout))
	defer func() { _ = e.c.ws.SetReadDeadline(time.Time{}) }()
	for {
		b, err := e.c.read()
		if err != nil {
			return 0, fmt.Errorf("await snapshot: %w", err)
		}
		switch kind, _, _ := scanFrame(b); kind {
		case kindSnapshot:
			m, err := decodeSnapshot(b)
			if err != nil {
				return 0, err
			}
			e.next.Store(m.version)
			return len([]rune(m.text)), nil
		case kindError:
			return 0, fmt.Errorf("open refused: %w", decodeError(b))
		}
	}
}

// keystroke makes one edit: it is applied to the buffer at once and sent
// if nothing is in flight.
func (e *rawEditor) keystroke(rec *recorder) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.dead {
		return
	}
	op, commit := e.ty.keystroke()
	commit()
	e.buffer = composeValid(e.buffer, op)
	rec.edits.Add(1)
	e.flush()
}

// flush sends the buffer as the new in-flight op when the way is clear.
func (e *rawEditor) flush() {
	if e.inflight != nil || e.buffer == nil || e.dead {
		return
	}
	e.inflight, e.buffer = e.buffer, nil
	e.seq++
	frame := appendOpFrame(nil, e.doc, e.next.Load(), e.id+strconv.Itoa(e.seq), e.inflight)
	e.sentAt = e.r.rec.now()
	if err := e.c.send(frame); err != nil {
		e.fail(err)
		return
	}
	e.r.rec.sent.Add(1)
}

func (e *rawEditor) fail(err error) {
	if !e.dead {
		e.dead = true
		e.r.rec.addError(fmt.Errorf("raw editor %d on %s: %w", e.idx, e.doc, err))
	}
}

// run reads until the socket closes.
func (e *rawEditor) run() {
	for {
		b, err := e.c.read()
		if err != nil {
			e.mu.Lock()
			if e.inflight != nil || e.buffer != nil {
				e.fail(err) // closed with edits pending: they are lost
			}
			e.dead = true
			e.mu.Unlock()
			e.r.rec.disconnected()
			return
		}
		e.onFrame(b)
	}
}

func (e *rawEditor) onFrame(b []byte) {
	kind, v, ok := scanFrame(b)
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case ok && kind == kindAck && e.inflight != nil && v == e.next.Load():
		lat := e.r.rec.now() - e.sentAt
		e.snd.acked(v, lat)
		e.inflight = nil
		e.next.Store(v + 1)
		e.flush()
	case ok && kind == kindOp && v == e.next.Load():
		e.onRemote(b, v)
	case kind == kindError:
		e.fail(decodeError(b))
	case ok && (kind == kindOp || kind == kindAck):
		e.fail(fmt.Errorf("frame for version %d, expected %d", v, e.next.Load()))
	}
}

// onRemote transforms someone else's op past the in-flight op and the
// buffer, and moves the typist's caret and length with it.
func (e *rawEditor) onRemote(b []byte, v int64) {
	var op document.Op
	if err := op.UnmarshalJSON(opSpan(b)); err != nil {
		e.fail(fmt.Errorf("decode op at version %d: %w", v, err))
		return
	}
	e.next.Store(v + 1)
	e.rcv.received(v)
	if e.inflight != nil {
		e.inflight, op = document.Transform(e.inflight, op)
	}
	if e.buffer != nil {
		if e.buffer, op = document.Transform(e.buffer, op); e.buffer.IsNoop() {
			e.buffer = nil
		}
	}
	e.ty.remote(op)
}

// pending reports whether edits are unacknowledged.
func (e *rawEditor) pending() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.inflight != nil || e.buffer != nil
}

// close closes the socket; run returns.
func (e *rawEditor) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dead = true
	e.c.close()
}

// typeUntil is editor.typeUntil's schedule for a raw editor.
func (e *rawEditor) typeUntil(ctx context.Context, rec *recorder, rate float64, seed uint64) {
	runSchedule(ctx, rec, rate, seed, func() { e.keystroke(rec) })
}

var opKey = []byte(`,"op":`)

// opSpan returns the op array of an op frame: from `[` to its `]`, which
// is the first `]` outside a string, as ops hold no nested arrays.
func opSpan(b []byte) []byte {
	i := bytes.Index(b, opKey)
	if i < 0 {
		return nil
	}
	b = b[i+len(opKey):]
	in := false
	for j := 0; j < len(b); j++ {
		switch c := b[j]; {
		case in && c == '\\':
			j++
		case c == '"':
			in = !in
		case !in && c == ']':
			return b[:j+1]
		}
	}
	return nil
}

// composeValid composes ops the typist made on the text it tracks.
func composeValid(a, b document.Op) document.Op {
	if a == nil {
		return b.Normalize()
	}
	op, err := document.Compose(a, b)
	if err != nil {
		panic("loadgen: compose of a typist's ops failed: " + err.Error())
	}
	return op
}
