package hub

import (
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"time"

	"github.com/collabedit/collab/fanout"
	"github.com/collabedit/collab/lease"
	"github.com/collabedit/collab/presence"
	"github.com/collabedit/collab/ratelimit"

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

	// UserRate and UserRateBurst bound the messages of one user across
	// all its connections, in every process sharing UserLimiters (token
	// bucket; over it: rate_limited, as for RatePerSecond). A user is its
	// token's subject; anonymous connections are counted by client
	// address (ClientKey). Defaults 4000 and 8000: four connections at
	// the per-connection limit, so that a user with many tabs is never
	// limited by it, while one with 100 scripted sockets gets 4×, not 100×.
	UserRate      float64
	UserRateBurst int
	// UserInsertRate and UserInsertBurst bound the text one user inserts
	// across its connections, in UTF-8 bytes per second, as InsertRate
	// does per connection. Defaults 1 MiB/s and 8 MiB (4× the
	// per-connection ones); UserInsertBurst is raised to MaxMessageBytes
	// if lower.
	UserInsertRate  float64
	UserInsertBurst int
	// MaxDocsCreatedPerHour bounds the documents one user creates (a
	// document is created by the first op committed to it) per
	// DocsCreatedWindow; the op that would create one more is refused
	// with rate_limited before it is sequenced. Default 100.
	MaxDocsCreatedPerHour int
	// DocsCreatedWindow is the window of MaxDocsCreatedPerHour (a token
	// bucket refilling MaxDocsCreatedPerHour per window). Default 1h;
	// tests shorten it.
	DocsCreatedWindow time.Duration
	// UserLimiters makes the per-user limiters (messages, inserted
	// bytes, documents created), one per name ("msg", "bytes", "docs").
	// nil: in this process's memory (ratelimit.Memory); the server uses
	// ratelimit.Redis with -redis-url, so all processes share each user's
	// budget.
	UserLimiters func(name string, limit ratelimit.Limit) UserLimiter

	// MaxConnsPerAddr bounds the sockets open at once from one client
	// address (an IPv4 address, or an IPv6 /64, which one host usually
	// has to itself); one more is answered HTTP 429 before the upgrade.
	// Default 64: a browser uses one socket per tab, so a person needs a
	// handful, and an office or school behind one NAT address needs
	// room for dozens of people; one address once opened 5,000 sockets
	// in 1.6 s. Negative: no limit.
	MaxConnsPerAddr int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed: when the TCP peer is in one of them, the client address
	// (what MaxConnsPerAddr counts, the logs show and the authenticator
	// receives) is read from the header, walked from the right past
	// trusted addresses; otherwise the header is ignored. Default none.
	TrustedProxies []netip.Prefix
	// LimitLoopback applies the per-address limits (MaxConnsPerAddr, and
	// the per-user limits of anonymous connections, which count by
	// address) to clients on the host itself too. Default false: a
	// loopback client is a test, a load tool, or a reverse proxy on the
	// same host; limiting such a proxy, not listed in TrustedProxies,
	// would put every visitor in one address's allowance and break the
	// site, where exempting it only loses the per-address limits (set
	// TrustedProxies: see docs/security.md).
	LimitLoopback bool

	// HistoryLen is how many recent ops each open document keeps in memory
	// to transform stale ops and serve catch-up without a database read.
	// Older bases read the log. Default 1000.
	HistoryLen int
	// HistoryBytes bounds the same window in bytes (encoded frames and
	// inserted text): a few large pastes then keep fewer ops in memory,
	// where a thousand 900 KB ops once held 1.8 GB. Default 8 MiB; the
	// newest committed op is always kept.
	HistoryBytes int
	// MaxPendingBytes bounds the payload of one document's ops handed to
	// the store and not yet committed; further ops are refused with
	// unavailable until it catches up. Default 16 MiB.
	MaxPendingBytes int
	// MaxCatchUp is the largest number of ops served to a reopening client;
	// further behind it gets a snapshot. Default 10000.
	MaxCatchUp int
	// MaxCatchUpBytes bounds the same catch-up in bytes of frames. Default
	// a quarter of MaxQueueBytes, so that a catch-up always fits in the
	// send queue instead of closing the connection with 4001 on every
	// reconnect.
	MaxCatchUpBytes int
	// InsertRate and InsertBurst bound the text one connection inserts, in
	// UTF-8 bytes per second (token bucket); an op over it is refused with
	// rate_limited and nothing is applied. Typing inserts about 10 B/s and
	// the automerge-paper replay 5 KB/s, so only bulk inserts meet it; it
	// bounds how fast one connection can grow the log and the history
	// (one client once grew the data directory by 1.5 GB in 20 s).
	// Defaults 256 KiB/s and 2 MiB; InsertBurst is raised to
	// MaxMessageBytes if lower, so every op that fits in a message passes
	// on a full bucket.
	InsertRate  float64
	InsertBurst int
	// SnapshotEvery makes a snapshot each time a document's version is a
	// multiple of it, so opening reads at most that many events. Default 200.
	SnapshotEvery int64
	// IdleTimeout unloads a document that has had no subscriber and no
	// pending commit for this long. Default 30s.
	IdleTimeout time.Duration

	// WriteTimeout is the deadline for one batch of socket writes. Default 10s.
	WriteTimeout time.Duration
	// CommitTimeout is how long an op may wait for the store to confirm
	// it. Past it (a stuck disk, a filesystem gone read-only) its author is
	// answered unavailable, and the document refuses new ops until the
	// store answers. Default 5s.
	CommitTimeout time.Duration
	// ReadTimeout bounds each read of the event log made while serving a
	// document (load, catch-up, old duplicates). Default 5s.
	ReadTimeout time.Duration
	// PingInterval is how often the server pings; a connection that sends
	// nothing (not even a pong) for PongWait is closed. Defaults 25s and 60s.
	PingInterval time.Duration
	PongWait     time.Duration

	// Logger receives the hub's logs; the zero value logs nothing.
	Logger zerolog.Logger

	// Bus, Leases and Presence connect processes that serve the same
	// documents. nil means in-process implementations (fanout.Memory,
	// lease.Memory with DefaultLeaseTTL, presence.Memory): one process,
	// nothing external.
	Bus      Bus
	Leases   Leases
	Presence Presence
	// ProcessID names this process on the bus and in leases; it must be
	// unique among the processes sharing them. Default: random.
	ProcessID string
	// ClusterTick is how often each room looks at its lease (an owner
	// renews and a follower checks the holder when a third of the lease
	// TTL has passed; a room that knows no owner asks on every tick), its
	// commit deadline, the log (follower) and its forwards. Default 250ms.
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
	// AdvertiseTTL is how long an advertised URL lives in the Directory
	// unrenewed; it is renewed every third of it, so a dead process stops
	// attracting clients within it (its leases, 5 s by default, have moved
	// long before, so nobody is routed to it anyway). Default 30s.
	AdvertiseTTL time.Duration
	// Directory records the processes' AdvertiseURLs. nil: no routing at
	// all; every open is served where it arrives, and ops from clients of
	// a non-owner are forwarded over the bus. lease.Memory and lease.Redis
	// implement it.
	Directory Directory

	// Auth decides who each connection acts as and what it may do with
	// each document (protocol §18). nil means no access control (the
	// server's -auth none): every connection is an anonymous writer and
	// needs no auth message, as in protocol v1.
	Auth Authenticator
	// AuthTimeout is how long a new connection may take to present a
	// valid token before it is closed with 4401. Default 5s.
	AuthTimeout time.Duration
	// ExpiryWarning is how long before its token expires a connection is
	// told to send a fresh one (error unauthorized); at expiry it is
	// closed with 4401. Default 60s.
	ExpiryWarning time.Duration
	// Revocations stores revocations (Hub.Revoke) for processes that start
	// later and across restarts. nil: they live in memory only.
	Revocations RevocationStore
}

// DefaultLeaseTTL is the lease TTL of the in-process leases, and the
// server's -lease-ttl default.
const DefaultLeaseTTL = 5 * time.Second

// DefaultConfig returns the settings New uses for every zero field (the
// external dependencies, ProcessID and Logger stay zero). The server's
// flags take their defaults from it, so each default is written once.
func DefaultConfig() Config {
	return Config{
		MaxMessageBytes: 1 << 20,
		MaxDocLen:       4 << 20,
		MaxQueueBytes:   32 << 20,
		MaxDocsPerConn:  256,
		RatePerSecond:   1000,
		RateBurst:       2000,
		HistoryLen:      1000,
		HistoryBytes:    8 << 20,
		MaxPendingBytes: 16 << 20,
		MaxCatchUp:      10000,
		MaxCatchUpBytes: 8 << 20,
		InsertRate:      256 << 10,
		InsertBurst:     2 << 20,
		SnapshotEvery:   200,
		IdleTimeout:     30 * time.Second,
		WriteTimeout:    10 * time.Second,
		CommitTimeout:   5 * time.Second,
		ReadTimeout:     5 * time.Second,
		PingInterval:    25 * time.Second,
		PongWait:        60 * time.Second,
		ClusterTick:     250 * time.Millisecond,
		PositionCheck:   time.Second,
		ForwardRetry:    time.Second,
		PresenceTTL:     15 * time.Second,
		AdvertiseTTL:    30 * time.Second,
		AuthTimeout:     5 * time.Second,
		ExpiryWarning:   time.Minute,
		UserRate:        4000,
		UserRateBurst:   8000,
		UserInsertRate:  1 << 20,
		UserInsertBurst: 8 << 20,
		MaxConnsPerAddr: 64,

		MaxDocsCreatedPerHour: 100,
		DocsCreatedWindow:     time.Hour,
	}
}

func (c *Config) setDefaults() {
	d := DefaultConfig()
	if c.MaxCatchUpBytes <= 0 && c.MaxQueueBytes > 0 {
		d.MaxCatchUpBytes = c.MaxQueueBytes / 4
	}
	setInt64(&c.MaxMessageBytes, d.MaxMessageBytes)
	for _, f := range []struct {
		p *int
		v int
	}{
		{&c.MaxDocLen, d.MaxDocLen}, {&c.MaxQueueBytes, d.MaxQueueBytes}, {&c.MaxDocsPerConn, d.MaxDocsPerConn},
		{&c.RateBurst, d.RateBurst}, {&c.HistoryLen, d.HistoryLen}, {&c.HistoryBytes, d.HistoryBytes},
		{&c.MaxPendingBytes, d.MaxPendingBytes}, {&c.MaxCatchUp, d.MaxCatchUp}, {&c.MaxCatchUpBytes, d.MaxCatchUpBytes},
		{&c.InsertBurst, d.InsertBurst}, {&c.UserRateBurst, d.UserRateBurst}, {&c.UserInsertBurst, d.UserInsertBurst},
		{&c.MaxDocsCreatedPerHour, d.MaxDocsCreatedPerHour},
	} {
		if *f.p <= 0 {
			*f.p = f.v
		}
	}
	if c.InsertBurst < int(c.MaxMessageBytes) {
		c.InsertBurst = int(c.MaxMessageBytes)
	}
	if c.UserInsertBurst < int(c.MaxMessageBytes) {
		c.UserInsertBurst = int(c.MaxMessageBytes)
	}
	if c.MaxConnsPerAddr == 0 {
		c.MaxConnsPerAddr = d.MaxConnsPerAddr
	}
	for _, f := range []struct {
		p *float64
		v float64
	}{{&c.RatePerSecond, d.RatePerSecond}, {&c.InsertRate, d.InsertRate}, {&c.UserRate, d.UserRate}, {&c.UserInsertRate, d.UserInsertRate}} {
		if *f.p <= 0 {
			*f.p = f.v
		}
	}
	setInt64(&c.SnapshotEvery, d.SnapshotEvery)
	for _, f := range []struct {
		p *time.Duration
		v time.Duration
	}{
		{&c.IdleTimeout, d.IdleTimeout}, {&c.WriteTimeout, d.WriteTimeout}, {&c.CommitTimeout, d.CommitTimeout},
		{&c.ReadTimeout, d.ReadTimeout}, {&c.PingInterval, d.PingInterval}, {&c.PongWait, d.PongWait},
		{&c.ClusterTick, d.ClusterTick}, {&c.PositionCheck, d.PositionCheck}, {&c.ForwardRetry, d.ForwardRetry},
		{&c.PresenceTTL, d.PresenceTTL}, {&c.AdvertiseTTL, d.AdvertiseTTL},
		{&c.AuthTimeout, d.AuthTimeout}, {&c.ExpiryWarning, d.ExpiryWarning}, {&c.DocsCreatedWindow, d.DocsCreatedWindow},
	} {
		if *f.p <= 0 {
			*f.p = f.v
		}
	}
	if c.UserLimiters == nil {
		c.UserLimiters = func(_ string, l ratelimit.Limit) UserLimiter { return ratelimit.NewMemory(l) }
	}
	if c.Bus == nil {
		c.Bus = fanout.NewMemory()
	}
	if c.Leases == nil {
		c.Leases = lease.NewMemory(DefaultLeaseTTL)
	}
	if c.Presence == nil {
		c.Presence = presence.NewMemory()
	}
	if c.ProcessID == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		c.ProcessID = hex.EncodeToString(b[:])
	}
}

func setInt64(p *int64, v int64) {
	if *p <= 0 {
		*p = v
	}
}
