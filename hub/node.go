package hub

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/collabedit/collab/auth"
	"github.com/collabedit/collab/protocol"
)

// node is what rooms and connections need of their process: settings,
// the log, the cluster's stores, the publisher, counters, and the hub's
// lifetime. The Hub embeds it and fills it in New; rooms and connections
// hold a pointer and never see the Hub itself, so the parts below the hub
// depend on this one struct, not on each other. Fields are set once in
// New, but for the atomics.
type node struct {
	cfg   Config
	store Store
	id    string // this process, on the bus and in leases
	// solo: no Bus was configured, so no other process can exist and
	// nothing is published: a one-process server pays nothing per op for
	// scale-out.
	solo   bool
	bus    Bus
	chans  channels // the bus's channel names
	leases Leases
	dir    Directory // nil: no routing
	// ownEvents prefixes every event this process publishes (wire.go).
	ownEvents []byte
	pub       *publisher
	router    *router
	mem       memoryReturn
	metrics   metrics
	log       zerolog.Logger
	notice    zerolog.Logger // info-level notices from clients' misbehaviour, sampled

	// open hands a connection's open to the document's room, starting it
	// if needed, and returns the room's inbox (nil: not opened here).
	open func(o origin, req protocol.Request) *inbox
	// unload removes an idle room from the registry, unless a sender is
	// on its way in; the room's goroutine then returns.
	unload func(doc string, in *inbox) bool

	ctx context.Context // cancelled when Close begins: rooms drain and exit
	// io bounds every call to the log, the lease store, the directory and
	// the bus, each with its own timeout (ioContext): it is cancelled once
	// Close has finished or its ctx expired, so no call outlives the hub.
	io context.Context
	// ioTimeout bounds one call to the lease store, the directory or the
	// bus: a third of the lease TTL, so that an owner whose store hangs
	// learns it in time to stop sequencing before its lease could expire.
	ioTimeout time.Duration
	closing   atomic.Bool
	// revoked holds the revocations in force (Hub.Revoke, and the other
	// processes' through the bus): a token they name is refused.
	revoked   auth.Revocations
	users     userLimits    // per-user limits shared by every connection
	roomsDone chan struct{} // closed once every room has exited after Close
}

// ioContext bounds one call made while serving: timeout, and the hub's
// lifetime.
func (n *node) ioContext(timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(n.io, timeout)
}

// limitsFrame is the answer to an open that asks for the limits (protocol
// §17): the ones in Config that decide whether an op is taken.
func (n *node) limitsFrame(doc string) []byte {
	c := &n.cfg
	return protocol.AppendLimits(nil, doc, protocol.Limits{
		MaxMessageBytes: c.MaxMessageBytes, MaxDocLen: c.MaxDocLen, MaxInsertBytes: c.InsertBurst,
		InsertRate: c.InsertRate, MessageRate: c.RatePerSecond, MessageBurst: c.RateBurst,
	})
}
