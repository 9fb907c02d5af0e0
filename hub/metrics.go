package hub

import (
	"sync/atomic"

	"github.com/collabedit/collab/protocol"
)

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
	revokedConns  atomic.Int64 // sockets closed with 4403
	// abuse limits
	addrRefused        atomic.Uint64 // upgrades refused over MaxConnsPerAddr
	forwardedClients   atomic.Uint64 // connections whose address came from a trusted proxy's header
	userRateLimited    atomic.Uint64 // messages refused over UserRate
	userInsertLimited  atomic.Uint64 // ops refused over UserInsertRate
	docsCreatedLimited atomic.Uint64 // ops refused over MaxDocsCreatedPerHour
	limiterFailures    atomic.Uint64 // per-user checks the limiter failed to answer (allowed)
	// cluster
	publishDropped atomic.Uint64
	publishFailed  atomic.Uint64
	gapsFilled     atomic.Uint64
	forwarded      atomic.Uint64
	redirects      atomic.Uint64
	historyBytes   atomic.Int64            // held by the open documents' history windows
	transitions    [lost + 1]atomic.Uint64 // ownership changes, by transition
	refusals       [16]atomic.Uint64       // errors sent to clients, by index in protocol.Codes (last: other)
	// latencies
	commit   latency // op handed to the store → its result
	ack      latency // op read from the socket → its ack queued (on the process holding the socket)
	delivery latency // frame queued for a socket → written to it (oldest frame of each write)
	lag      latency // op sequenced by its owner → applied by a follower
}

// refused counts an error sent to a client.
func (m *metrics) refused(code protocol.Code) {
	i := len(m.refusals) - 1
	for j, c := range protocol.Codes {
		if c == code {
			i = j
			break
		}
	}
	m.refusals[i].Add(1)
}

func (m *metrics) transition(t transition) { m.transitions[t].Add(1) }
