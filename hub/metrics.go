package hub

import "sync/atomic"

// metrics are the hub's counters, updated with atomics on hot paths and
// read by Stats.
type metrics struct {
	conns         atomic.Int64
	rooms         atomic.Int64
	opsApplied    atomic.Uint64
	opsRefused    atomic.Uint64
	framesSent    atomic.Uint64
	slowConsumers atomic.Uint64
	rateLimited   atomic.Uint64
	// cluster
	publishDropped atomic.Uint64
	publishFailed  atomic.Uint64
	gapsFilled     atomic.Uint64
	forwarded      atomic.Uint64
	redirects      atomic.Uint64
}

// Stats is a point-in-time copy of the hub's counters.
type Stats struct {
	Connections   int64  // sockets being served
	Documents     int64  // documents loaded in memory
	OpsApplied    uint64 // ops committed and acknowledged
	OpsRefused    uint64 // ops answered with an error
	FramesSent    uint64 // WebSocket messages written
	SlowConsumers uint64 // connections dropped with 4001
	RateLimited   uint64 // messages refused with rate_limited
	GapsFilled    uint64 // times a room read missed events from the log
	Forwarded     uint64 // ops forwarded to another process's owner
	PublishFailed uint64 // bus publishes that failed or were dropped
	Redirects     uint64 // routed opens answered with "moved"
}

// Stats returns the current counters.
func (h *Hub) Stats() Stats {
	m := &h.metrics
	return Stats{
		Connections:   m.conns.Load(),
		Documents:     m.rooms.Load(),
		OpsApplied:    m.opsApplied.Load(),
		OpsRefused:    m.opsRefused.Load(),
		FramesSent:    m.framesSent.Load(),
		SlowConsumers: m.slowConsumers.Load(),
		RateLimited:   m.rateLimited.Load(),
		GapsFilled:    m.gapsFilled.Load(),
		Forwarded:     m.forwarded.Load(),
		PublishFailed: m.publishFailed.Load() + m.publishDropped.Load(),
		Redirects:     m.redirects.Load(),
	}
}
