package hub

import (
	"bytes"
	"time"

	"github.com/rs/zerolog"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/protocol"
)

type commitResult struct {
	version int64
	err     error
}

// room owns one open document. Its goroutine (run) is the only one touching
// its parts, so commands on a document are serialised without locks and
// without retries: a stale op is transformed, not bounced. The room itself
// only selects, dispatches and does the I/O; the state lives in four parts
// that each own their fields and do no I/O of their own:
//
//   - seq, the sequencer: text, version, history, op ids, pending commits;
//   - own, the lease state machine (ownership.go), asked through lease;
//   - fol, the follower: forwards in flight and ops held for an owner;
//   - peers, the roster: presence.
//
// Commits are pipelined: an accepted op is handed to the store at once and
// the room moves on; the store answers (in order, or at once when it
// refuses at the door), and the sequencer releases results in version
// order: only then is an op applied to the committed text, acked and
// broadcast. So a hot document is not limited to one fsync per op, and
// nothing uncommitted is ever shown to anyone.
type room struct {
	n    *node
	doc  string
	log  zerolog.Logger
	in   *inbox
	subs audience

	seq   *sequencer
	own   ownership
	lease *leaseCalls
	fol   follower
	peers *roster
	out   *courier

	results  *mailbox[commitResult]
	rosters  *mailbox[[]protocol.Peer]
	onCommit func(eventlog.Event, error) // the store's callback: queues the result
	outs     []outcome                   // reused between releases

	idle        *time.Timer
	memReported int // hist.bytes as last added to the hub's gauge
	memPeak     int // the most hist.bytes plus pending bytes and text held at once
}

func newRoom(h *node, doc string) *room {
	r := &room{
		n:       h,
		doc:     doc,
		log:     h.log.With().Str("doc", doc).Logger(),
		in:      newInbox(),
		subs:    make(audience),
		seq:     newSequencer(doc, limitsOf(&h.cfg)),
		own:     ownership{self: h.id, ttl: h.leases.TTL()},
		fol:     newFollower(),
		results: newMailbox[commitResult](),
		rosters: newMailbox[[]protocol.Peer](),
		out:     &courier{doc: doc, self: h.id, chans: h.chans, pub: h.pub, m: &h.metrics, pres: h.cfg.Presence, ttl: h.cfg.PresenceTTL},
	}
	r.lease = &leaseCalls{leases: h.leases, dir: h.dir, doc: doc, self: h.id, solo: h.solo,
		timeout: h.ioTimeout, io: h.io, answers: newMailbox[leaseAnswer]()}
	r.peers = newRoster(doc, h.id, r.out)
	if h.solo {
		r.own.permanent()
	}
	results := r.results
	r.onCommit = func(e eventlog.Event, err error) { results.put(commitResult{version: e.Version, err: err}) }
	return r
}

// fromBus returns the bus's callback for a document's channel, run on
// the bus's dispatcher goroutine: it decodes and queues, never blocks.
// Messages starting with ownPrefix are this process's own publications.
func fromBus(in *inbox, ownPrefix []byte, log *zerolog.Logger) func([]byte) {
	return func(msg []byte) {
		switch {
		case msg == nil:
			in.busIn(nil)
		case bytes.HasPrefix(msg, ownPrefix):
		default:
			m, err := decodeBusMsg(msg)
			if err != nil {
				log.Warn().Err(err).Msg("bad bus message")
				in.busIn(nil) // an undecodable message becomes a resync
				return
			}
			in.busIn(&m)
		}
	}
}
