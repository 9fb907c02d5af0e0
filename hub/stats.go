package hub

import "github.com/collabedit/collab/protocol"

// Stats is a point-in-time copy of the hub's counters.
type Stats struct {
	Connections   int64  // sockets being served
	Documents     int64  // documents loaded in memory
	OpsApplied    uint64 // ops committed and acknowledged
	OpsRefused    uint64 // ops answered with an error
	FramesSent    uint64 // WebSocket messages written
	SlowConsumers uint64 // connections dropped with 4001
	RateLimited   uint64 // messages refused with rate_limited
	Revoked       int64  // sockets closed with 4403 by a revocation
	// AddrRefused counts upgrades refused with 429 over MaxConnsPerAddr.
	AddrRefused uint64
	// ForwardedClients counts connections whose client address was read
	// from a trusted proxy's X-Forwarded-For.
	ForwardedClients uint64
	// UserRateLimited, UserInsertLimited and DocsCreatedLimited count
	// refusals (rate_limited, also in RateLimited) over UserRate,
	// UserInsertRate and MaxDocsCreatedPerHour.
	UserRateLimited, UserInsertLimited, DocsCreatedLimited uint64
	// LimiterFailures counts per-user checks the limiter could not
	// answer (Redis down), which were allowed.
	LimiterFailures uint64
	GapsFilled      uint64 // times a room read missed events from the log
	Forwarded       uint64 // ops forwarded to another process's owner
	PublishFailed   uint64 // bus publishes that failed or were dropped
	Redirects       uint64 // routed opens answered with "moved"
	HistoryBytes    int64  // bytes held by the open documents' history windows
	// Refusals counts the errors sent to clients, by code.
	Refusals map[protocol.Code]uint64
	// Latency histograms: Commit (op handed to the event log until its
	// result), Ack (op read from the socket until its ack is queued, on the
	// process holding the socket), Delivery (a frame queued for a socket
	// until it is written; the oldest frame of each write) and FollowerLag
	// (an op sequenced by its owner until another process applied it).
	Commit, Ack, Delivery, FollowerLag Histogram
	// QueuedBytes is what waits in every connection's send queue.
	QueuedBytes int64
	// Transitions counts changes of documents' ownership, by name
	// ("took over", "deposed", "lapsed", "followed", "lost").
	Transitions map[string]uint64
}

// Stats returns the current counters.
func (h *Hub) Stats() Stats {
	m := &h.metrics
	s := Stats{
		Connections:   m.conns.Load(),
		Documents:     m.rooms.Load(),
		OpsApplied:    m.opsApplied.Load(),
		OpsRefused:    m.opsRefused.Load(),
		FramesSent:    m.framesSent.Load(),
		SlowConsumers: m.slowConsumers.Load(),
		RateLimited:   m.rateLimited.Load(),
		Revoked:       m.revokedConns.Load(),

		AddrRefused:        m.addrRefused.Load(),
		ForwardedClients:   m.forwardedClients.Load(),
		UserRateLimited:    m.userRateLimited.Load(),
		UserInsertLimited:  m.userInsertLimited.Load(),
		DocsCreatedLimited: m.docsCreatedLimited.Load(),
		LimiterFailures:    m.limiterFailures.Load(),

		GapsFilled:    m.gapsFilled.Load(),
		Forwarded:     m.forwarded.Load(),
		PublishFailed: m.publishFailed.Load() + m.publishDropped.Load(),
		Redirects:     m.redirects.Load(),
		HistoryBytes:  m.historyBytes.Load(),
		Commit:        m.commit.snapshot(),
		Ack:           m.ack.snapshot(),
		Delivery:      m.delivery.snapshot(),
		FollowerLag:   m.lag.snapshot(),
		QueuedBytes:   h.conns.queuedBytes(),
		Refusals:      make(map[protocol.Code]uint64, len(protocol.Codes)),
		Transitions:   make(map[string]uint64, len(m.transitions)),
	}
	for i, c := range protocol.Codes {
		s.Refusals[c] = m.refusals[i].Load()
	}
	for t := tookOver; t <= lost; t++ {
		if t != renewed {
			s.Transitions[t.String()] = m.transitions[t].Load()
		}
	}
	return s
}
