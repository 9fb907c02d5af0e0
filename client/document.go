package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/protocol"
)

// Doc is one open document: the local text (server state plus pending local
// edits) and the state machine that keeps it in sync (see state.go). It is
// safe for concurrent use.
type Doc struct {
	c     *Client
	id    string
	log   zerolog.Logger
	ready chan struct{} // closed when the first snapshot arrives
	done  chan struct{} // closed when the Doc stops (Close, Client.Close, failed Open)

	mu       sync.Mutex
	err      error // why done was closed
	closed   bool
	sess     *session // the session the document is open on; nil while detached
	state    state
	have     bool           // the first snapshot has arrived
	version  int64          // server version of server
	server   *document.Text // last known server text, at version
	local    *document.Text // server text with inflight and buffer applied
	inflight *flight        // the op sent and not yet acked
	buffer   document.Op    // local edits made since inflight was sent, composed
	probe    *probe         // the snapshot held while the in-flight op is probed
	bo       *backoff       // delays for resends after unavailable / rate_limited
	retryTok uint64         // invalidates scheduled retries
	changed  chan struct{}  // closed and replaced on every change (WaitSynced)
	hooks    []func()       // callbacks to run once the lock is released
	running  int            // goroutines running hooks
	me       *protocol.Peer // our presence, resent after a reconnect
	// presenceRetrying: a resend of a refused presence is armed.
	presenceRetrying bool
	peers            map[string]protocol.Peer // everyone else present, by session
	opens            int                      // opens sent on sess: more than one re-serves the document (§6.2)
	probes           int                      // probes sent (for tests and debugging)
	resyncs          int                      // fresh snapshots requested (for tests and debugging)
}

// flight is the op in flight. op is kept transformed to the document's
// current server version, so it can be resent as is after a reconnect;
// origBase and origOp are what was first sent, used to probe whether it was
// applied when only a snapshot is available.
type flight struct {
	id       string
	op       document.Op
	origBase int64
	origOp   document.Op
	sent     time.Time
	// applied: the server applied the op (we got its ack) but the op is not
	// yet part of server: a snapshot is awaited that includes it.
	applied bool
}

// probe is a snapshot received while an op was in flight, held until the
// server tells whether that op was applied, together with the ops that
// arrived after it.
type probe struct {
	text    string
	version int64
	ops     []remoteOp
}

type remoteOp struct {
	version int64
	id      string
	op      document.Op
	life    *protocol.Lifecycle // set for a rename or delete (§19)
}

func newDoc(c *Client, id string) *Doc {
	return &Doc{
		c:       c,
		id:      id,
		log:     c.log.With().Str("doc", id).Logger(),
		ready:   make(chan struct{}),
		done:    make(chan struct{}),
		server:  document.NewText(""),
		local:   document.NewText(""),
		bo:      newBackoff(c.cfg.ReconnectMin, c.cfg.ReconnectMax),
		changed: make(chan struct{}),
	}
}

// ID returns the document id.
func (d *Doc) ID() string { return d.id }

// Text returns the local text: the server's state plus pending local edits.
func (d *Doc) Text() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.local.String()
}

// Version returns the last server version this client knows: ops received
// or acknowledged so far.
func (d *Doc) Version() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.version
}

// Pending reports whether local edits are not yet acknowledged (an op in
// flight or buffered).
func (d *Doc) Pending() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.inflight != nil || d.buffer != nil
}

// Submit applies op to the local text at once and queues it for the
// server: one op is in flight at a time, later edits are composed into one
// buffered op sent when the previous one is acknowledged. It returns an
// error, and changes nothing, if op does not fit the local text.
func (d *Doc) Submit(op document.Op) error {
	d.mu.Lock()
	defer d.unlock()
	return d.submitLocked(op)
}

// Edit builds an op from the current local text and submits it in one
// step: no remote op can land between reading the text and applying the
// op, as one can between Text and Submit. An editor computing positions
// from what it shows uses this. fn may return nil to change nothing.
func (d *Doc) Edit(fn func(text string) document.Op) error {
	d.mu.Lock()
	defer d.unlock()
	if d.closed {
		return fmt.Errorf("edit %q: %w", d.id, d.closeErrLocked())
	}
	op := fn(d.local.String())
	if op == nil {
		return nil
	}
	return d.submitLocked(op)
}

func (d *Doc) submitLocked(op document.Op) error {
	if d.closed {
		return fmt.Errorf("submit to %q: %w", d.id, d.closeErrLocked())
	}
	if err := d.local.Apply(op); err != nil {
		return fmt.Errorf("submit to %q: %w", d.id, err)
	}
	if op.IsNoop() {
		return nil
	}
	d.buffer = compose(d.buffer, op.Normalize())
	if d.buffer.IsNoop() {
		d.buffer = nil
	}
	d.flush()
	return nil
}

// Insert inserts s at code point position pos of the local text.
func (d *Doc) Insert(pos int, s string) error {
	if pos < 0 {
		return fmt.Errorf("insert into %q: negative position %d", d.id, pos)
	}
	return d.Submit(document.FromPatch(pos, 0, s))
}

// Delete deletes n code points at position pos of the local text.
func (d *Doc) Delete(pos, n int) error {
	if pos < 0 || n < 0 {
		return fmt.Errorf("delete from %q: negative position or count (%d, %d)", d.id, pos, n)
	}
	return d.Submit(document.FromPatch(pos, n, ""))
}

// WaitSynced waits until every local edit is acknowledged by the server
// (and the hooks reporting it have returned) and the client is connected
// with the document in sync.
func (d *Doc) WaitSynced(ctx context.Context) error {
	for {
		d.mu.Lock()
		synced := d.state == stReady && d.inflight == nil && d.buffer == nil && d.running == 0 &&
			d.sess != nil && d.sess.alive()
		closed, ch := d.closed, d.changed
		d.mu.Unlock()
		switch {
		case closed:
			return fmt.Errorf("wait synced %q: %w", d.id, d.closeErr())
		case synced:
			return nil
		}
		select {
		case <-ch:
		case <-d.done:
		case <-ctx.Done():
			return fmt.Errorf("wait synced %q: %w", d.id, ctx.Err())
		}
	}
}

// Close unsubscribes from the document and stops tracking it. Edits not yet
// acknowledged are abandoned: call WaitSynced first to keep them.
func (d *Doc) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return ErrClosed
	}
	if d.sess != nil {
		d.sess.send(closeFrame(d.id))
	}
	d.stopLocked(errors.New("document closed"))
	d.mu.Unlock()
	d.c.forget(d)
	return nil
}

// shutdown stops the document when its client closes.
func (d *Doc) shutdown() {
	d.mu.Lock()
	if !d.closed {
		d.stopLocked(ErrClosed)
	}
	d.mu.Unlock()
}

// fail stops a document whose open the server refused for good.
func (d *Doc) fail(err error) {
	d.stopLocked(err)
	d.hooks = append(d.hooks, func() { d.c.forget(d) })
}

func (d *Doc) stopLocked(err error) {
	d.closed, d.err = true, err
	d.sess = nil
	d.retryTok++
	close(d.done)
}

func (d *Doc) closeErr() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closeErrLocked()
}

func (d *Doc) closeErrLocked() error {
	if d.err != nil {
		return d.err
	}
	return ErrClosed
}

// unlock releases d.mu after a change: it wakes WaitSynced and runs the
// hooks collected meanwhile, outside the lock. WaitSynced counts hooks still
// running as pending, so its caller sees the OnAck of the last op.
func (d *Doc) unlock() {
	hooks := d.hooks
	d.hooks = nil
	if len(hooks) > 0 {
		d.running++
	}
	d.notify()
	d.mu.Unlock()
	if len(hooks) == 0 {
		return
	}
	for _, h := range hooks {
		h()
	}
	d.mu.Lock()
	d.running--
	d.notify()
	d.mu.Unlock()
}

func (d *Doc) notify() {
	close(d.changed)
	d.changed = make(chan struct{})
}
