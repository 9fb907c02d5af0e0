package hub

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/collabedit/collab/fanout"
	"github.com/collabedit/collab/lease"
	"github.com/collabedit/collab/presence"

	"github.com/rs/zerolog"
)

// Config holds the hub's settings. New fills every zero field with the
// default documented on it, so the zero Config is a working configuration.
type Config struct {
	// AllowedOrigins lists the Origin header values a browser may connect
	// from ("https://app.example.com"); "*" allows any. Empty means
	// same-origin only: the Origin's host must equal the request's Host.
	// Requests without an Origin header (non-browser clients) are allowed.
	AllowedOrigins []string

	// MaxMessageBytes is the largest client frame answered normally; a
	// larger one up to 4× this is refused with too_large and the
	// connection kept, anything larger closes it with 1009. Default 1 MiB.
	MaxMessageBytes int64
	// MaxDocLen is the largest document in code points; an op that would
	// make it longer is refused with too_large. Default 4 Mi (≈ 4-16 MB).
	MaxDocLen int
	// MaxQueueBytes bounds what may wait in one connection's send queue; a
	// reader that falls further behind is closed with 4001 (slow consumer)
	// so it never slows anyone else. Default 32 MiB, enough for a maximal
	// snapshot plus catch-up.
	MaxQueueBytes int
	// MaxDocsPerConn bounds the documents one connection may hold open.
	// Default 256.
	MaxDocsPerConn int

	// RatePerSecond and RateBurst bound messages per connection (token
	// bucket); over it the client gets rate_limited. Defaults 1000 and
	// 2000: a fast typist makes about 10 ops/s, a scripted replay far more.
	RatePerSecond float64
	RateBurst     int

	// HistoryLen is how many recent ops each open document keeps in memory
	// to transform stale ops and serve catch-up without a database read.
	// Older bases read the log (reconnect) or get bad_version (op).
	// Default 1000.
	HistoryLen int
	// MaxCatchUp is the largest number of ops served to a reopening client;
	// further behind it gets a snapshot. Default 10000.
	MaxCatchUp int
	// SnapshotEvery makes a snapshot each time a document's version is a
	// multiple of it, so opening reads at most that many events. Default 200.
	SnapshotEvery int64
	// IdleTimeout unloads a document that has had no subscriber and no
	// pending commit for this long. Default 30s.
	IdleTimeout time.Duration

	// WriteTimeout is the deadline for one batch of socket writes. Default 10s.
	WriteTimeout time.Duration
	// PingInterval is how often the server pings; a connection that sends
	// nothing (not even a pong) for PongWait is closed. Defaults 25s and 60s.
	PingInterval time.Duration
	PongWait     time.Duration

	// Logger receives the hub's logs; the zero value logs nothing.
	Logger zerolog.Logger

	// Bus, Leases and Presence connect processes that serve the same
	// documents. nil means in-process implementations (fanout.Memory,
	// lease.Memory, presence.Memory): one process, nothing external.
	Bus      Bus
	Leases   Leases
	Presence Presence
	// ProcessID names this process on the bus and in leases; it must be
	// unique among the processes sharing them. Default: random.
	ProcessID string
	// ClusterTick is how often each room renews its lease (when owner, at
	// a third of the lease TTL) or checks the log and its forwards (when
	// follower). Default 250ms.
	ClusterTick time.Duration
	// PositionCheck is how long a follower goes without hearing an event
	// before it compares its version with the log, which is how a lost
	// last event is found. Default 1s.
	PositionCheck time.Duration
	// PresenceTTL is how long a peer's entry lives in the presence store
	// without a refresh; it is refreshed every third of it, so the peers of
	// a process that died vanish within about this long. Default 15s.
	PresenceTTL time.Duration
	// ForwardRetry is how long a follower waits for a forwarded op to come
	// back committed before sending it again (same id, so safe). Default 1s.
	ForwardRetry time.Duration

	// AdvertiseURL is the WebSocket URL clients can reach this process at
	// (ws://10.0.0.7:8080/ws). With a Directory, it is published there so
	// that other processes can route clients here: an open that asks for
	// routing (protocol §15) on a process that does not own the document
	// is answered with "moved" and the owner's URL, so the owner's own
	// clients skip two bus hops per op. Empty: this process never receives
	// routed clients, and still routes its own to owners that advertise.
	AdvertiseURL string
	// Directory records the processes' AdvertiseURLs. nil: no routing at
	// all; every open is served where it arrives, and ops from clients of
	// a non-owner are forwarded over the bus. lease.Memory and lease.Redis
	// implement it.
	Directory Directory
}

func (c *Config) setDefaults() {
	def := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = 1 << 20
	}
	def(&c.MaxDocLen, 4<<20)
	def(&c.MaxQueueBytes, 32<<20)
	def(&c.MaxDocsPerConn, 256)
	def(&c.RateBurst, 2000)
	def(&c.HistoryLen, 1000)
	def(&c.MaxCatchUp, 10000)
	if c.RatePerSecond <= 0 {
		c.RatePerSecond = 1000
	}
	if c.SnapshotEvery <= 0 {
		c.SnapshotEvery = 200
	}
	durations := []struct {
		p *time.Duration
		v time.Duration
	}{
		{&c.IdleTimeout, 30 * time.Second},
		{&c.WriteTimeout, 10 * time.Second},
		{&c.PingInterval, 25 * time.Second},
		{&c.PongWait, 60 * time.Second},
		{&c.ClusterTick, 250 * time.Millisecond},
		{&c.PositionCheck, time.Second},
		{&c.ForwardRetry, time.Second},
		{&c.PresenceTTL, 15 * time.Second},
	}
	if c.Bus == nil {
		c.Bus = fanout.NewMemory()
	}
	if c.Leases == nil {
		c.Leases = lease.NewMemory(5 * time.Second)
	}
	if c.Presence == nil {
		c.Presence = presence.NewMemory()
	}
	if c.ProcessID == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		c.ProcessID = hex.EncodeToString(b[:])
	}
	for _, d := range durations {
		if *d.p <= 0 {
			*d.p = d.v
		}
	}
}
