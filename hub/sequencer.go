package hub

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/protocol"
)

// limits are the bounds a sequencer enforces, taken from Config.
type limits struct {
	maxDocLen       int   // Config.MaxDocLen
	maxCatchUp      int   // Config.MaxCatchUp
	historyLen      int   // Config.HistoryLen
	historyBytes    int   // Config.HistoryBytes
	maxPendingBytes int   // Config.MaxPendingBytes
	snapshotEvery   int64 // Config.SnapshotEvery
	commitTimeout   time.Duration
}

func limitsOf(cfg *Config) limits {
	return limits{maxDocLen: cfg.MaxDocLen, maxCatchUp: cfg.MaxCatchUp, historyLen: cfg.HistoryLen,
		historyBytes: cfg.HistoryBytes, maxPendingBytes: cfg.MaxPendingBytes, snapshotEvery: cfg.SnapshotEvery,
		commitTimeout: cfg.CommitTimeout}
}

// sequencer is one document's text and the ops around it: the committed
// text and version, the history window, the op-id index and the ops
// handed to the store and not yet released. It is a pure state machine:
// it reads no clock, log or socket of its own, and answers with what to
// do (an event to store, a refusal, an ack, outcomes to broadcast), which
// the room does. So every path of OT, deduplication, ordered release and
// recovery is tested without a socket or a database (sequencer_test.go).
//
// Versions below version are committed; [next, head) are pending, in
// submission order, and released in that order whatever order the store
// answers in.
type sequencer struct {
	doc          string
	lim          limits
	loaded       bool
	deleted      bool // a delete was sequenced or applied: refuse everything (§19)
	broken       bool // a commit failed: reload once nothing is pending
	stalled      bool // the store missed the commit timeout: refuse ops until it answers
	text         *document.Text
	version      int64 // committed version
	next         int64 // the first pending version not released yet
	specLen      int   // length after every accepted op, pending ones too
	pendingBytes int   // payload bytes handed to the store and not answered
	hist         history
	ids          map[string]int64 // op id → version, for every op in hist
	forget       func(*entry)     // drops a trimmed entry's id
}

func newSequencer(doc string, lim limits) *sequencer {
	s := &sequencer{doc: doc, lim: lim, ids: make(map[string]int64)}
	s.forget = func(e *entry) { delete(s.ids, e.id) }
	return s
}

// admitKind is what the sequencer made of an op.
type admitKind uint8

const (
	admitted admitKind = iota // sequenced: store ev
	rejected                  // err: answer the origin with it
	ackNow                    // a resend of an op committed at version
	awaiting                  // a resend of a pending op: its origin is acked with it
	readLog                   // the base is older than the window: read the log (see admitOld)
	failed                    // bug: a stored op does not decode
)

// admission is the answer to admit.
type admission struct {
	kind    admitKind
	ev      eventlog.Event  // admitted
	version int64           // ackNow: the op's version; readLog: the window's base
	err     *protocol.Error // refused; readLog: the refusal if the op is not a resend
	bug     error           // failed
}

// pending is the number of ops handed to the store whose results are not
// released yet.
func (s *sequencer) pending() int64 { return s.hist.head() - s.next }

// needsReload reports whether a failed commit has drained, so the room
// should replace memory with the log's.
func (s *sequencer) needsReload() bool { return s.broken && s.pending() == 0 }

// reset replaces the state with a loaded history and text.
func (s *sequencer) reset(hist history, text *document.Text) {
	s.ids = make(map[string]int64, len(hist.entries))
	for i := range hist.entries {
		s.ids[hist.entries[i].id] = hist.base + int64(i)
	}
	s.hist, s.text = hist, text
	s.version, s.specLen = hist.head(), text.Len()
	s.next, s.pendingBytes = s.version, 0
	s.loaded, s.broken, s.stalled, s.deleted = true, false, false, false
	s.hist.trim(s.lim.historyLen, s.lim.historyBytes, s.version, s.forget)
}

// admit validates, deduplicates and transforms an op from o, read at now.
func (s *sequencer) admit(o origin, req protocol.Request, now time.Time) admission {
	if v, ok := s.ids[req.ID]; ok {
		return s.duplicate(o, req.ID, v)
	}
	switch {
	case s.deleted:
		return refusal(goneRefusal(s.doc, req.ID))
	case s.stalled:
		return refusal(unavailable(s.doc, req.ID, fmt.Sprintf("storage has not confirmed earlier ops for over %v; nothing was applied, retry", s.lim.commitTimeout)))
	case s.pendingBytes > s.lim.maxPendingBytes:
		return refusal(unavailable(s.doc, req.ID, fmt.Sprintf("over %d bytes of this document are waiting to be stored; nothing was applied, retry", s.lim.maxPendingBytes)))
	}
	if req.Lifecycle != nil {
		return s.pushLifecycle(o, req, now)
	}
	head := s.hist.head()
	switch {
	case req.Version > head:
		return refusal(refuse(protocol.CodeBadVersion, s.doc, req.ID,
			fmt.Sprintf("version %d is ahead of the document (at %d)", req.Version, head)))
	case req.Version < s.hist.base:
		// A resend of an op applied long ago is acked whatever its age:
		// the room looks it up first, and only then uses err.
		a := admission{kind: readLog, version: s.hist.base}
		if head-req.Version > int64(s.lim.maxCatchUp) {
			a.err = refuse(protocol.CodeBadVersion, s.doc, req.ID,
				fmt.Sprintf("version %d is more than %d ops behind (at %d); reopen the document", req.Version, s.lim.maxCatchUp, head))
		}
		return a
	}
	op, perr := s.rebase(req)
	if perr != nil {
		return refusal(perr)
	}
	return s.push(o, req.ID, op, now, nil)
}

// admitOld admits an op whose base is older than the window, given the
// stored events from its base up to the window (admission readLog): it is
// transformed over them, then over the window, so a client lagging behind
// a hot document is served, not bounced.
func (s *sequencer) admitOld(o origin, req protocol.Request, older []eventlog.Event, now time.Time) admission {
	ops := make([]document.Op, len(older))
	lenAt := s.hist.at(s.hist.base).lenBefore
	for i := len(older) - 1; i >= 0; i-- {
		if err := ops[i].UnmarshalJSON(older[i].Op); err != nil {
			return admission{kind: failed, bug: fmt.Errorf("stored op at version %d: %w", older[i].Version, err)}
		}
		lenAt -= ops[i].Delta()
	}
	if n := req.Op.BaseLen(); n > lenAt {
		return refusal(refuse(protocol.CodeInvalidOp, s.doc, req.ID,
			fmt.Sprintf("op spans %d characters but the document had %d at version %d", n, lenAt, req.Version)))
	}
	for _, prior := range ops {
		req.Op, _ = document.Transform(req.Op, prior)
	}
	req.Version = s.hist.base
	op, perr := s.rebase(req)
	if perr != nil {
		return refusal(perr)
	}
	return s.push(o, req.ID, op, now, nil)
}

func refusal(err *protocol.Error) admission { return admission{kind: rejected, err: err} }

// duplicate answers a resent op id: at once with the original version if
// it is committed, else when its commit lands. If its outcome is not known
// (the store timed out, or the room is recovering) the client is told to
// resend later, which is always safe with the same id.
func (s *sequencer) duplicate(o origin, id string, v int64) admission {
	if v < s.version {
		return admission{kind: ackNow, version: v}
	}
	e := s.hist.at(v)
	if e.told || v < s.next {
		return refusal(unavailable(s.doc, id, "the outcome of this op is not known yet; resend it with the same id"))
	}
	e.waiters = append(e.waiters, o)
	return admission{kind: awaiting, version: v}
}

// rebase checks that the op fits the document at its base version and
// transforms it over everything sequenced since, pending ops included.
func (s *sequencer) rebase(req protocol.Request) (document.Op, *protocol.Error) {
	lenAt := s.specLen
	if s.hist.contains(req.Version) {
		lenAt = s.hist.at(req.Version).lenBefore
	}
	op := req.Op
	if n := op.BaseLen(); n > lenAt {
		return nil, refuse(protocol.CodeInvalidOp, s.doc, req.ID,
			fmt.Sprintf("op spans %d characters but the document had %d at version %d", n, lenAt, req.Version))
	}
	for v := req.Version; v < s.hist.head(); v++ {
		op, _ = document.Transform(op, s.hist.at(v).op)
	}
	if newLen := s.specLen + op.Delta(); newLen > s.lim.maxDocLen {
		return nil, refuse(protocol.CodeTooLarge, s.doc, req.ID,
			fmt.Sprintf("document would be %d characters, over the limit of %d", newLen, s.lim.maxDocLen))
	}
	return op, nil
}

// push sequences op at the head. The event names its predecessor, so the
// log refuses it unless it lands right on top of the op it was
// transformed against.
func (s *sequencer) push(o origin, id string, op document.Op, now time.Time, life *protocol.Lifecycle) admission {
	v := s.hist.head()
	payload := op.AppendJSON(nil)
	s.hist.push(entry{op: op, id: id, author: authorFor(o, id), lenBefore: s.specLen, from: o, payload: payload, at: now, life: life})
	s.ids[id] = v
	s.specLen += op.Delta()
	s.pendingBytes += len(payload)
	e := s.hist.at(v)
	ev := eventlog.Event{Doc: s.doc, Version: v, OpID: id, Author: e.author, Time: now, Op: payload, Size: int64(s.specLen)}
	if v > s.hist.base {
		ev.Prev = s.hist.at(v - 1).id
	}
	return admission{kind: admitted, ev: ev, version: v}
}

// authorFor is the author recorded for an op from o: the user its token
// names under access control, else the client id in the op id.
func authorFor(o origin, id string) string {
	if o.author != "" {
		return o.author
	}
	return authorOf(id)
}

// authorOf takes the client id from an op id "<client-id>:<seq>": it names
// the editing session that wrote the op.
func authorOf(id string) string {
	if i := strings.LastIndexByte(id, ':'); i > 0 {
		return id[:i]
	}
	return id
}

var (
	errNoPending    = errors.New("commit result for no pending op")
	errSecondResult = errors.New("second commit result for one op")
)

// settle records the store's answer for version v and returns when that
// op was handed to the store. Answers usually come in version order, but
// an append the store refuses at the door (queue full) is answered at
// once, before earlier ones; release puts them in order.
func (s *sequencer) settle(v int64, err error) (time.Time, error) {
	if v < s.next || !s.hist.contains(v) {
		return time.Time{}, fmt.Errorf("settle version %d (next %d): %w", v, s.next, errNoPending)
	}
	e := s.hist.at(v)
	if e.answered {
		return time.Time{}, fmt.Errorf("settle version %d: %w", v, errSecondResult)
	}
	e.answered, e.err = true, err
	s.pendingBytes -= len(e.payload)
	return e.at, nil
}
