package soak

import (
	"fmt"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/protocol"
)

// rawPhase is where a raw document stands on its connection.
type rawPhase uint8

const (
	rawClosed     rawPhase = iota // not open on the current connection
	rawOpening                    // open sent without a version: the snapshot comes next; ops before it are stale
	rawCatchingUp                 // open sent with our version: ops from exactly there, then opened
	rawReady                      // every op and ack comes at exactly our version
)

// rawOp is a raw client's op in flight. It is always an insert at
// position 0, which every transform leaves at position 0 (as the later
// op it wins ties, and no delete can move position 0), so its effect at
// whatever version the server applies it is known without the server's
// transformed op: text is prepended.
type rawOp struct {
	id   string
	text string
	// snapshotAt: a snapshot at this version arrived while the op was in
	// flight and the op was resent; an ack below it means the op is in
	// that snapshot already. -1: none.
	snapshotAt int64
	// appliedAt: acknowledged at this version while the text was not
	// there yet (during a resync); prepended when the text reaches it.
	// -1: unknown.
	appliedAt int64
}

// rawDoc follows one document over raw frames and checks every snapshot,
// op, ack and opened against its version, as §6 of docs/protocol.md
// promises: after the reply to an open, ops and acks arrive at exactly
// the next version, each once. It does no I/O: handle returns what the
// connection must do. Not safe for concurrent use.
type rawDoc struct {
	who, doc string
	phase    rawPhase
	have     bool   // a snapshot was received: later opens resume
	version  int64  // ops received or acknowledged so far
	text     string // the text at version
	inflight *rawOp
	seq      int
	acks     map[string]int64 // own op ids acknowledged, by version
	moves    int              // "moved" answers since an open was last served
}

// problem is a broken expectation found in one frame.
type problem struct {
	check  check
	detail string
}

// ackEvent is an acknowledgement of one of our ops.
type ackEvent struct {
	id      string
	version int64
}

// outcome is what one frame asks of the connection, and what it showed.
type outcome struct {
	send        [][]byte // frames to send now
	moveTo      string   // follow "moved": reconnect there
	retryOp     bool     // the op in flight got unavailable: resend it after a backoff
	retryOpen   bool     // the open got unavailable: open again after a backoff
	unavailable string   // the message of an unavailable answer (allowed, counted)
	acked       []ackEvent
	problems    []problem
}

func (o *outcome) problem(c check, format string, args ...any) {
	o.problems = append(o.problems, problem{check: c, detail: fmt.Sprintf(format, args...)})
}

func newRawDoc(who, doc string) *rawDoc {
	return &rawDoc{who: who, doc: doc, acks: make(map[string]int64)}
}

// open returns the open to send on a new connection, or to reopen after a
// close: with our version once we have one, so the server catches us up.
func (d *rawDoc) open(route bool) []byte {
	req := protocol.Request{Type: protocol.TypeOpen, Doc: d.doc, Route: route}
	if d.have {
		req.Version, req.HasVersion = d.version, true
		d.phase = rawCatchingUp
	} else {
		d.phase = rawOpening
	}
	return protocol.AppendRequest(nil, req)
}

// resync asks for a fresh snapshot after the stream broke §6.
func (d *rawDoc) resync() []byte {
	d.phase = rawOpening
	return protocol.AppendRequest(nil, protocol.Request{Type: protocol.TypeOpen, Doc: d.doc})
}

// close returns the close frame; what was queued before it may still come.
func (d *rawDoc) close() []byte {
	d.phase = rawClosed
	return protocol.AppendRequest(nil, protocol.Request{Type: protocol.TypeClose, Doc: d.doc})
}

// opening reports whether an open was sent and not yet answered.
func (d *rawDoc) opening() bool { return d.phase == rawOpening || d.phase == rawCatchingUp }

// disconnected notes that the connection is gone.
func (d *rawDoc) disconnected() { d.phase = rawClosed }

// newOp starts an op inserting text at position 0 and returns its frame,
// or nil if the document is not ready or an op is already in flight.
func (d *rawDoc) newOp(text string) []byte {
	if d.phase != rawReady || d.inflight != nil {
		return nil
	}
	d.seq++
	d.inflight = &rawOp{id: fmt.Sprintf("%s:%d", d.who, d.seq), text: text, snapshotAt: -1, appliedAt: -1}
	return d.resend()
}

// resend returns the op in flight at our version, with its id, or nil if
// there is nothing to resend now.
func (d *rawDoc) resend() []byte {
	f := d.inflight
	if d.phase != rawReady || f == nil || f.appliedAt >= 0 {
		return nil
	}
	return protocol.AppendRequest(nil, protocol.Request{Type: protocol.TypeOp, Doc: d.doc,
		Version: d.version, HasVersion: true, ID: f.id, Op: document.FromPatch(0, 0, f.text)})
}

// pending reports the id of the op in flight, "" for none.
func (d *rawDoc) pending() string {
	if d.inflight == nil {
		return ""
	}
	return d.inflight.id
}

// handle runs one frame for this document.
func (d *rawDoc) handle(m protocol.Message) outcome {
	var out outcome
	switch m.Type {
	case protocol.TypeSnapshot:
		d.onSnapshot(m, &out)
	case protocol.TypeOpened:
		d.onOpened(m, &out)
	case protocol.TypeOp:
		d.onOp(m, &out)
	case protocol.TypeAck:
		d.onAck(m, &out)
	case protocol.TypeError:
		d.onError(m, &out)
	case protocol.TypeMoved:
		d.onMoved(m, &out)
	}
	return out
}

func (d *rawDoc) onSnapshot(m protocol.Message, out *outcome) {
	if d.phase == rawClosed {
		return // queued before a close: the reopen brings its own answer
	}
	if d.have && m.Version < d.version {
		out.problem(checkOrder, "snapshot at version %d, below version %d already received", m.Version, d.version)
	}
	d.moves = 0
	d.text, d.version, d.have, d.phase = m.Text, m.Version, true, rawReady
	f := d.inflight
	switch {
	case f == nil:
	case f.appliedAt >= 0 && f.appliedAt < m.Version:
		d.inflight = nil // already in the snapshot
	case f.appliedAt >= 0:
		d.advance()
	default:
		// Its fate is unknown: resend it (same id). An ack below the
		// snapshot means it is in there; at or above, it comes in order.
		f.snapshotAt = m.Version
		out.send = append(out.send, d.resend())
	}
}

func (d *rawDoc) onOpened(m protocol.Message, out *outcome) {
	if d.phase != rawCatchingUp {
		out.problem(checkOrder, "opened at version %d without an open from a version pending", m.Version)
		return
	}
	d.moves = 0
	if m.Version != d.version {
		out.problem(checkOrder, "opened at version %d, but the catch-up brought us to %d", m.Version, d.version)
		out.send = append(out.send, d.resync())
		return
	}
	d.phase = rawReady
	if f := d.resend(); f != nil {
		out.send = append(out.send, f)
	}
}

func (d *rawDoc) onOp(m protocol.Message, out *outcome) {
	if d.phase == rawOpening {
		return // the stream before the snapshot we asked for
	}
	if m.Version != d.version {
		how := "a gap"
		if m.Version < d.version {
			how = "delivered again"
		}
		out.problem(checkOrder, "op %s at version %d, expected %d (%s)", m.ID, m.Version, d.version, how)
		if d.phase != rawClosed {
			out.send = append(out.send, d.resync())
		}
		return
	}
	if f := d.inflight; f != nil && m.ID == f.id {
		// Our own op, in a catch-up or after a reload (§5): its ack.
		d.settle(f, m.Version, out)
		d.prepend(f)
		return
	}
	text, err := document.Apply(d.text, m.Op)
	if err != nil {
		out.problem(checkOrder, "op %s at version %d does not apply to the text there: %v", m.ID, m.Version, err)
		out.send = append(out.send, d.resync())
		return
	}
	d.text = text
	d.version++
	d.advance()
}

func (d *rawDoc) onAck(m protocol.Message, out *outcome) {
	f := d.inflight
	if f == nil || m.ID != f.id {
		// A duplicate: it must carry the original version (§4).
		v, ok := d.acks[m.ID]
		switch {
		case !ok:
			out.problem(checkOrder, "ack of op %s at version %d, which is not ours or was never sent", m.ID, m.Version)
		case v != m.Version:
			out.problem(checkAckVersion, "duplicate ack of op %s at version %d, first acknowledged at %d", m.ID, m.Version, v)
		}
		return
	}
	d.settle(f, m.Version, out)
	switch {
	case f.snapshotAt >= 0 && m.Version < f.snapshotAt:
		d.inflight = nil // in the snapshot already
	case d.phase == rawReady && m.Version == d.version:
		d.prepend(f)
	case d.phase == rawOpening:
		f.appliedAt = m.Version // the coming snapshot holds it, or reaches it
	default:
		out.problem(checkOrder, "ack of op %s at version %d, expected %d", m.ID, m.Version, d.version)
		f.appliedAt = m.Version
		if d.phase != rawClosed {
			out.send = append(out.send, d.resync())
		}
	}
}

func (d *rawDoc) onError(m protocol.Message, out *outcome) {
	if m.Code != protocol.CodeUnavailable {
		out.problem(checkError, "error %s (op %q): %s", m.Code, m.ID, m.Message)
		return
	}
	out.unavailable = m.Message
	switch {
	case m.ID != "" && m.ID == d.pending():
		out.retryOp = true
	case m.ID == "" && (d.phase == rawOpening || d.phase == rawCatchingUp):
		d.phase = rawClosed // the open failed: the document is not open
		out.retryOpen = true
	}
}

func (d *rawDoc) onMoved(m protocol.Message, out *outcome) {
	if d.phase != rawOpening && d.phase != rawCatchingUp {
		out.problem(checkOrder, "moved to %s while not opening", m.URL)
		return
	}
	d.moves++
	d.phase = rawClosed
	out.moveTo = m.URL
}

// settle records the acknowledgement of f at v.
func (d *rawDoc) settle(f *rawOp, v int64, out *outcome) {
	if f.appliedAt >= 0 && f.appliedAt != v {
		out.problem(checkAckVersion, "op %s arrived at version %d, acknowledged at %d", f.id, v, f.appliedAt)
	}
	if _, dup := d.acks[f.id]; !dup {
		out.acked = append(out.acked, ackEvent{id: f.id, version: v})
	}
	d.acks[f.id] = v
}

// prepend applies our op f at our version.
func (d *rawDoc) prepend(f *rawOp) {
	d.text = f.text + d.text
	d.version++
	d.inflight = nil
}

// advance applies our op once the text reaches the version it was
// acknowledged at during a resync.
func (d *rawDoc) advance() {
	if f := d.inflight; f != nil && f.appliedAt == d.version {
		d.prepend(f)
	}
}
