// Command server runs the collaborative editing server: the WebSocket hub
// at /ws, the browser client at /, health and metrics endpoints, on an
// embedded SQLite event log or, with -store postgres://…, on PostgreSQL.
// See -h for its settings.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/collabedit/collab/catalog"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/fanout"
	"github.com/collabedit/collab/feed"
	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/lease"
	"github.com/collabedit/collab/metrics"
	"github.com/collabedit/collab/presence"
	"github.com/collabedit/collab/query"
	"github.com/collabedit/collab/redisopt"
	"github.com/collabedit/collab/revocation"
	"github.com/collabedit/collab/static"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "token":
			os.Exit(runToken(os.Args[2:], os.Stdout, os.Stderr))
		case "export", "import":
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			var code int
			if os.Args[1] == "export" {
				code = runExport(ctx, os.Args[2:], os.Stdout, os.Stderr)
			} else {
				code = runImport(ctx, os.Args[2:], os.Stderr)
			}
			stop()
			os.Exit(code)
		}
	}
	o, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	log, err := newLogger(o.logLevel, o.logFormat)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, log); err != nil {
		log.Error().Err(err).Msg("server stopped")
		os.Exit(1)
	}
}

func newLogger(level, format string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		return zerolog.Logger{}, fmt.Errorf("log level %q: %w", level, err)
	}
	var w = zerolog.New(os.Stderr)
	switch {
	case format == "console" || format == "auto" && isatty.IsTerminal(os.Stderr.Fd()):
		w = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.TimeOnly})
	case format != "json" && format != "auto":
		return zerolog.Logger{}, fmt.Errorf("log format %q: want console, json or auto", format)
	}
	return w.Level(lvl).With().Timestamp().Logger(), nil
}

// run serves until ctx is cancelled, then shuts down in order: stop
// accepting, let the hub finish in-flight commits and close sockets with
// 1001, stop the projector (read models), close the event log.
func run(ctx context.Context, o options, log zerolog.Logger) error {
	if err := os.MkdirAll(o.dataDir, 0o755); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	acc, err := newAccess(o.access)
	if err != nil {
		return err
	}
	var notifier commitNotifier
	store, where, err := openStore(ctx, o, notifier.notify, log)
	if err != nil {
		return err
	}
	proj, err := openProjector(ctx, o.projection, o.dataDir, store, &notifier, log)
	if err != nil {
		_ = store.Close()
		return err
	}
	// The projector only reads the log: it stops before the log closes.
	closeStore := func() error {
		if proj == nil {
			return store.Close()
		}
		if err := proj.Close(); err != nil {
			log.Warn().Err(err).Msg("read models shutdown")
		}
		return store.Close()
	}
	o.hub.Logger = log
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		_ = closeStore()
		return fmt.Errorf("listen: %w", err)
	}
	if err := acc.checkExposure(ln.Addr()); err != nil {
		_ = ln.Close()
		_ = closeStore()
		return err
	}
	rc, closeCluster, err := connectCluster(&o, ln.Addr(), log)
	if err != nil {
		_ = ln.Close()
		_ = closeStore()
		return err
	}
	defer closeCluster()
	o.hub.Auth = acc.authn
	o.hub.Revocations = &revocation.File{Path: filepath.Join(o.dataDir, "revocations.json")}
	if rc != nil {
		o.hub.Revocations = &revocation.Redis{Client: rc}
	}
	h := hub.New(store, o.hub)
	acc.announce(log)
	checks := []check{{"hub", h.Ready}, {"eventlog", store.Health}}
	var models query.Reader = noReadModels{}
	if proj != nil {
		checks = append(checks, check{"projections", proj.Health})
		models = proj
	}
	if rc != nil {
		checks = append(checks, check{"redis", redisProbe(rc)})
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		metrics.NewCollector(h, store))
	if proj != nil {
		reg.MustRegister(metrics.NewProjectionCollector(proj))
	}
	o.feed.Access = acc.listFilter(h)
	changes := feed.New(store, o.feed)
	handler, err := routes(h, store, checks, acc, reg, changes, models)
	if err != nil {
		_ = h.Close(ctx)
		_ = ln.Close()
		_ = closeStore()
		return err
	}
	stopAdmin, err := serveAdmin(o.access, h, proj, reg, log)
	if err != nil {
		_ = h.Close(ctx)
		_ = ln.Close()
		_ = closeStore()
		return err
	}
	defer stopAdmin()
	if o.pprofAddr != "" {
		_, stopPprof, err := servePprof(o.pprofAddr, log)
		if err != nil {
			_ = h.Close(ctx)
			_ = ln.Close()
			_ = closeStore()
			return err
		}
		defer stopPprof()
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: maxHeaderBytes}
	srv.RegisterOnShutdown(changes.Close) // change feed streams never end on their own
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Log().Str("addr", ln.Addr().String()).Str("db", where).Msg("listening") // at every log level: tools wait for it

	select {
	case <-ctx.Done():
		log.Info().Msg("shutting down")
	case err := <-serveErr:
		log.Error().Err(err).Msg("http server failed")
	}
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn().Err(err).Msg("http shutdown")
	}
	if err := h.Close(sctx); err != nil {
		log.Warn().Err(err).Msg("hub shutdown")
	}
	if err := closeStore(); err != nil {
		return fmt.Errorf("close event log: %w", err)
	}
	log.Info().Msg("stopped")
	return nil
}

// dataDirInUse tells the operator why the server cannot start on a data
// directory another server process has open, and how to run several.
func dataDirInUse(dir string, e *eventlog.LockedError) error {
	holder := "server processes started with -redis-url"
	switch {
	case e.PID > 0 && e.Shared:
		holder = fmt.Sprintf("another server process (pid %d) started without -redis-url", e.PID)
	case e.PID > 0:
		holder = fmt.Sprintf("another server process (pid %d)", e.PID)
	case e.Shared:
		holder = "another server process started without -redis-url"
	}
	return fmt.Errorf("data directory %s is in use by %s; to serve one data directory from several processes, start every one with -redis-url (lock file %s): %w",
		dir, holder, e.File, eventlog.ErrLocked)
}

// connectCluster wires the hub to Redis when -redis-url is set: pub/sub
// fan-out, owner leases and presence, on one Redis server (redis://) or a
// Redis Cluster (redis+cluster://host:port,host:port). Without it the
// hub's in-process defaults serve one process.
func connectCluster(o *options, addr net.Addr, log zerolog.Logger) (redis.UniversalClient, func(), error) {
	if o.redisURL == "" {
		return nil, func() {}, nil
	}
	client, where, err := redisopt.NewClient(o.redisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("redis url: %w", err)
	}
	if o.hub.AdvertiseURL, err = advertiseURL(o.advertise, addr); err != nil {
		_ = client.Close()
		return nil, nil, err
	}
	redis.SetLogger(redisLogger{log.With().Str("component", "redis").Logger()})
	bus := fanout.NewRedis(client, log.With().Str("component", "fanout").Logger())
	bus.DropRate = o.dropRate
	o.hub.Bus = bus
	leases := lease.NewRedis(client, o.leaseTTL)
	o.hub.Leases, o.hub.Directory = leases, leases
	o.hub.Presence = presence.NewRedis(client)
	o.hub.UserLimiters = redisLimiters(client)
	log.Info().Str("redis", where).Str("advertise", o.hub.AdvertiseURL).Msg("sharing documents through redis")
	return client, func() {
		_ = bus.Close()
		_ = client.Close()
	}, nil
}

// advertiseURL resolves -advertise-url: "auto" is the listener's own
// address, which only works when it names one interface (a wildcard
// address is not somewhere a client can connect to).
func advertiseURL(flag string, addr net.Addr) (string, error) {
	if flag != "auto" {
		return flag, nil
	}
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		return "", fmt.Errorf("-advertise-url auto: listening on %s, which is not one address; give the URL", addr)
	}
	return "ws://" + tcp.String() + "/ws", nil
}

// maxHeaderBytes bounds a request's headers: a bearer token with many
// grants is a few KB, and net/http's default of 1 MB per request is
// memory a client can make the server hold.
const maxHeaderBytes = 64 << 10

// routes is the server's HTTP surface: the WebSocket endpoint, health,
// the document list and share-link APIs, the change feed and the HTTP
// command endpoint, and the browser client; /metrics
// too in mode none (with access control it is on the admin listener only).
func routes(h *hub.Hub, store eventlog.Log, checks []check, acc *access, reg *prometheus.Registry, changes *feed.Handler, models query.Reader) (http.Handler, error) {
	web, err := static.NewHandler()
	if err != nil {
		return nil, fmt.Errorf("browser client: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /ws", h)
	mux.HandleFunc("GET /readyz", readyHandler(checks))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintln(w, "ok")
	})
	if acc.authn == nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	}
	list := catalog.New(store)
	list.Access = acc.listFilter(h)
	mux.Handle("GET /api/docs", list)
	mux.HandleFunc("POST /api/docs/{doc}/links", acc.shareLink(h))
	mux.Handle("GET /api/v1/changes", changes)
	if models != nil { // the read models (tests of the other routes run without)
		query.Routes(mux, store, models, acc.listFilter(h))
	}
	h.CommandRoutes(mux)
	mux.Handle("GET /", web)
	return mux, nil
}

// redisLogger sends go-redis's own messages (reconnect attempts during an
// outage) through our logger instead of the standard library's.
type redisLogger struct{ log zerolog.Logger }

func (l redisLogger) Printf(_ context.Context, format string, v ...any) {
	l.log.Warn().Msgf(format, v...)
}

// servePprof serves net/http/pprof on its own listener, apart from the
// public mux, so profiling can be reached from the host without exposing
// it to clients. It returns the address it listens on and a func that
// stops it and waits for its goroutine.
func servePprof(addr string, log zerolog.Logger) (string, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("pprof listen: %w", err)
	}
	mux := http.NewServeMux()
	pprofRoutes(mux)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	log.Info().Str("addr", ln.Addr().String()).Msg("pprof listening")
	return ln.Addr().String(), func() {
		_ = srv.Close()
		<-done
	}, nil
}
