package hub

import (
	"time"

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
	}
	for _, d := range durations {
		if *d.p <= 0 {
			*d.p = d.v
		}
	}
}
