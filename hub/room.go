package hub

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/protocol"
)

type cmdKind uint8

const (
	cmdOpen cmdKind = iota
	cmdOp
	cmdLeave
)

// command is what a connection asks of a room.
type command struct {
	kind cmdKind
	c    *conn
	req  protocol.Request
}

type commitResult struct {
	version int64
	err     error
}

// room owns one open document. Its goroutine (run) is the only one touching
// the state below the marker line, so commands on a document are serialised
// without locks and without retries: a stale op is transformed, not bounced.
//
// Commits are pipelined: an accepted op is handed to the store at once and
// the room moves on; the store's group commit answers in order, and only
// then is the op applied to the committed text, acked and broadcast. So a
// hot document is not limited to one fsync per op, and nothing uncommitted
// is ever shown to anyone.
type room struct {
	h     *Hub
	doc   string
	log   zerolog.Logger
	inbox chan command
	done  chan struct{} // closed when run returns
	refs  atomic.Int32  // senders between acquire and delivery

	resMu    sync.Mutex
	results  []commitResult
	resWake  chan struct{}
	onCommit func(eventlog.Event, error)

	// --- owned by run ---
	loaded  bool
	broken  bool           // a commit failed: reload once nothing is pending
	text    *document.Text // committed text
	version int64          // committed version
	sent    int64          // ops up to here have been broadcast
	specLen int            // length after every accepted op, pending ones too
	hist    history
	ids     map[string]int64 // op id → version, for every op in hist
	subs    map[*conn]struct{}
	idle    *time.Timer
}

func newRoom(h *Hub, doc string) *room {
	r := &room{
		h:       h,
		doc:     doc,
		log:     h.log.With().Str("doc", doc).Logger(),
		inbox:   make(chan command, 256),
		done:    make(chan struct{}),
		resWake: make(chan struct{}, 1),
		ids:     make(map[string]int64),
		subs:    make(map[*conn]struct{}),
	}
	r.onCommit = r.committed
	return r
}

// deliver hands a command to the room. It blocks while the inbox is full
// (backpressure on that one client) and reports false if the room has
// stopped.
func (r *room) deliver(cmd command) bool {
	select {
	case r.inbox <- cmd:
		return true
	case <-r.done:
		if cmd.kind == cmdOp {
			cmd.c.sendError(unavailable(r.doc, cmd.req.ID, "document is not loaded; reopen it"))
		}
		return false
	}
}

// committed is the store's callback, run on the store's writer goroutine:
// it must not block, so it only queues the result.
func (r *room) committed(e eventlog.Event, err error) {
	r.resMu.Lock()
	r.results = append(r.results, commitResult{version: e.Version, err: err})
	r.resMu.Unlock()
	select {
	case r.resWake <- struct{}{}:
	default:
	}
}

func (r *room) pending() int64 { return r.hist.head() - r.version }

func (r *room) run() {
	defer close(r.done)
	r.h.metrics.rooms.Add(1)
	defer r.h.metrics.rooms.Add(-1)
	r.idle = time.NewTimer(r.h.cfg.IdleTimeout)
	defer r.idle.Stop()
	if err := r.load(); err != nil {
		r.log.Error().Err(err).Msg("load document")
	}
	stopping := r.h.ctx.Done()
	var results []commitResult
	for {
		select {
		case cmd := <-r.inbox:
			r.handle(cmd)
		case <-r.resWake:
			results = r.takeResults(results)
			for _, res := range results {
				r.finish(res)
			}
			r.maybeReload()
		case <-r.idle.C:
			if len(r.subs) == 0 && r.pending() == 0 && r.h.release(r) {
				return
			}
		case <-stopping:
			stopping = nil // drain: keep going until nothing is pending
		}
		if stopping == nil && r.pending() == 0 {
			return
		}
		if len(r.subs) == 0 && r.pending() == 0 {
			r.idle.Reset(r.h.cfg.IdleTimeout)
		}
	}
}

func (r *room) takeResults(buf []commitResult) []commitResult {
	r.resMu.Lock()
	buf, r.results = r.results, buf[:0]
	r.resMu.Unlock()
	return buf
}

func (r *room) handle(cmd command) {
	switch cmd.kind {
	case cmdOpen:
		r.open(cmd.c, cmd.req)
	case cmdOp:
		if err := r.submit(cmd.c, cmd.req); err != nil {
			r.h.metrics.opsRefused.Add(1)
			cmd.c.sendError(err)
		}
	case cmdLeave:
		delete(r.subs, cmd.c)
	}
}
