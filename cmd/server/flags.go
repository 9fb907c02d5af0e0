package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/collabedit/collab/feed"
	"github.com/collabedit/collab/hub"
)

// options are the server's settings, from flags or their COLLAB_*
// environment-variable equivalents (a flag on the command line wins).
type options struct {
	addr            string
	dataDir         string
	logLevel        string
	logFormat       string
	origins         string
	shutdownTimeout time.Duration
	redisURL        string
	store           string // -store: "" for <data>/events.db, or a postgres:// URL
	leaseTTL        time.Duration
	advertise       string
	pprofAddr       string
	dropRate        float64
	minFreeDisk     int64
	hub             hub.Config
	access          accessOptions
	projection      projectionOptions
	feed            feed.Config // the change feed's settings (-feed-*)
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", "localhost:8080", "listen address (host:port; \":8080\" for all interfaces)")
	fs.StringVar(&o.dataDir, "data", "data", "data directory; the event log is <data>/events.db")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&o.logFormat, "log-format", "auto", "log format: console, json, or auto (console on a terminal, json otherwise)")
	fs.StringVar(&o.origins, "allowed-origins", "", "comma-separated browser origins allowed to connect (\"*\" for any); empty: same origin only")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 15*time.Second, "how long a graceful shutdown may take")
	fs.StringVar(&o.store, "store", "", "event log: empty for the SQLite file <data>/events.db, or a PostgreSQL URL (postgres://user:pass@host:5432/db) shared by every server process; read models stay in <data>/readmodels.db. Several processes on one PostgreSQL need -redis-url")
	fs.StringVar(&o.redisURL, "redis-url", "", "Redis URL to share documents with other server processes on the same data: one server, redis://host:port/db, or a Redis Cluster, redis+cluster://host:port,host:port (seed nodes; rediss+cluster:// for TLS); empty: one process, no Redis")
	fs.StringVar(&o.advertise, "advertise-url", "", "with -redis-url: the WebSocket URL clients can reach this process at (ws://10.0.0.7:8080/ws), so other processes can send clients of documents it owns here (protocol §15); \"auto\": ws://<listen address>/ws; empty: not advertised")
	fs.Int64Var(&o.minFreeDisk, "min-free-disk", 0, "bytes to keep free on the data filesystem: below it, edits and snapshots are refused until space is freed; 0: min(512 MiB, 5% of the filesystem); negative: no reserve")
	fs.StringVar(&o.pprofAddr, "pprof-addr", "", "serve Go's profiler (net/http/pprof) on this address, e.g. 127.0.0.1:6060; empty: off. Never expose it publicly")
	fd := feed.DefaultConfig()
	fs.DurationVar(&o.feed.Poll, "feed-poll", fd.Poll, "how often a caught-up change feed stream (GET /api/v1/changes) reads the event log for new commits")
	fs.DurationVar(&o.feed.Heartbeat, "feed-heartbeat", fd.Heartbeat, "a change feed stream sends a comment after this long without events, so proxies keep the connection")
	fs.DurationVar(&o.feed.WriteTimeout, "feed-write-timeout", fd.WriteTimeout, "a change feed client that does not take a batch of events within this long is disconnected (it resumes with Last-Event-ID)")
	fs.Float64Var(&o.dropRate, "test-drop-rate", 0, "FOR TESTS ONLY: drop this fraction of received pub/sub messages, to exercise gap recovery")
	h, d := &o.hub, hub.DefaultConfig()
	fs.DurationVar(&o.leaseTTL, "lease-ttl", hub.DefaultLeaseTTL, "with -redis-url: how long a document's owner lease lasts unrenewed (a dead owner is replaced within it; an owner that cannot renew stops sequencing a tenth of it before it ends)")
	fs.StringVar(&h.ProcessID, "process-id", "", "this process's id among processes sharing Redis; default random")
	fs.Int64Var(&h.MaxMessageBytes, "max-message-bytes", d.MaxMessageBytes, "largest client message in bytes (too_large above it)")
	fs.IntVar(&h.MaxDocLen, "max-doc-len", d.MaxDocLen, "largest document in code points")
	fs.IntVar(&h.MaxQueueBytes, "max-queue-bytes", d.MaxQueueBytes, "per-connection send queue limit in bytes; a slower reader is closed with 4001")
	fs.IntVar(&h.MaxDocsPerConn, "max-docs-per-conn", d.MaxDocsPerConn, "documents one connection may hold open")
	fs.Float64Var(&h.RatePerSecond, "rate", d.RatePerSecond, "messages per second allowed per connection")
	fs.IntVar(&h.RateBurst, "rate-burst", d.RateBurst, "burst of messages allowed per connection above -rate")
	fs.Float64Var(&h.InsertRate, "insert-rate", d.InsertRate, "bytes of inserted text per second allowed per connection (rate_limited above it)")
	fs.IntVar(&h.InsertBurst, "insert-burst", d.InsertBurst, "burst of inserted bytes allowed per connection above -insert-rate (at least -max-message-bytes)")
	fs.IntVar(&h.HistoryLen, "history", d.HistoryLen, "recent ops kept in memory per open document")
	fs.IntVar(&h.HistoryBytes, "history-bytes", d.HistoryBytes, "bytes of recent ops kept in memory per open document")
	fs.IntVar(&h.MaxPendingBytes, "max-pending-bytes", d.MaxPendingBytes, "bytes of one document's ops waiting to be stored before further ops are refused with unavailable")
	fs.IntVar(&h.MaxCatchUp, "max-catch-up", d.MaxCatchUp, "most ops replayed to a reopening client before it gets a snapshot")
	fs.IntVar(&h.MaxCatchUpBytes, "max-catch-up-bytes", 0, "most bytes of ops replayed to a reopening client before it gets a snapshot; 0: a quarter of -max-queue-bytes")
	fs.Int64Var(&h.SnapshotEvery, "snapshot-every", d.SnapshotEvery, "snapshot each document every N versions")
	fs.DurationVar(&h.IdleTimeout, "idle-timeout", d.IdleTimeout, "unload a document this long after its last subscriber left")
	fs.DurationVar(&h.WriteTimeout, "write-timeout", d.WriteTimeout, "deadline for writing to a socket")
	fs.DurationVar(&h.CommitTimeout, "commit-timeout", d.CommitTimeout, "answer unavailable for an op the event log has not confirmed within this long")
	fs.DurationVar(&h.ReadTimeout, "read-timeout", d.ReadTimeout, "deadline for each read of the event log while serving a document")
	fs.DurationVar(&h.PingInterval, "ping-interval", d.PingInterval, "how often the server pings each socket")
	fs.DurationVar(&h.PongWait, "pong-wait", d.PongWait, "close a socket silent for this long")
	fs.DurationVar(&h.PresenceTTL, "presence-ttl", d.PresenceTTL, "how long a peer's presence lasts unrefreshed (a crashed process's peers vanish within it)")
	fs.DurationVar(&h.ClusterTick, "cluster-tick", d.ClusterTick, "with -redis-url: how often each document checks its lease, its position in the log and its forwarded ops")
	fs.DurationVar(&h.PositionCheck, "position-check", d.PositionCheck, "with -redis-url: how long a follower goes without hearing an event before it compares its version with the log")
	fs.DurationVar(&h.AdvertiseTTL, "advertise-ttl", d.AdvertiseTTL, "with -advertise-url: how long this process's advertised URL lives unrenewed (renewed every third of it)")
	fs.DurationVar(&h.ForwardRetry, "forward-retry", d.ForwardRetry, "with -redis-url: how long a forwarded op waits to come back committed before it is sent again (same id)")
	addAccessFlags(fs, &o.access, h, d)
	addLimitFlags(fs, h, d)
	addProjectionFlags(fs, &o.projection)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: server [flags]\n\nRuns the collaborative editing server. Every flag can also be set with\nthe environment variable COLLAB_<FLAG> (upper case, '-' as '_'),\nfor example COLLAB_ADDR=:8080. A flag given on the command line wins.\n\n")
		fs.PrintDefaults()
	}
	if err := applyEnv(fs); err != nil {
		return o, err
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	// Given explicitly, the admin address must be listened on; the default
	// may be taken (a second process on the host) and is then skipped.
	_, o.access.adminAddrSet = os.LookupEnv("COLLAB_ADMIN_ADDR")
	fs.Visit(func(f *flag.Flag) { o.access.adminAddrSet = o.access.adminAddrSet || f.Name == "admin-addr" })
	if o.origins != "" {
		for _, s := range strings.Split(o.origins, ",") {
			if s = strings.TrimSpace(s); s != "" {
				h.AllowedOrigins = append(h.AllowedOrigins, s)
			}
		}
	}
	return o, nil
}

// applyEnv sets each flag from COLLAB_<NAME> before the command line is
// parsed, so the command line overrides the environment.
func applyEnv(fs *flag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := "COLLAB_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		f.Usage += " [$" + name + "]"
		if v, ok := os.LookupEnv(name); ok && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("environment %s=%q: %w", name, v, e)
			}
		}
	})
	return err
}
