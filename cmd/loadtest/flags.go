package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/collabedit/collab/loadgen"
)

// common are the flags every scenario has.
type common struct {
	urls, metricsURLs listFlag
	sourceAddrs       int
	duration, rampUp  time.Duration
	connectTimeout    time.Duration
	syncTimeout       time.Duration
	seed              uint64
	quiet, noMetrics  bool
	followOwner       bool
	jsonOut           string
	cpuProfile        string
	logLevel          string
	th                loadgen.Thresholds
	maxMem, maxRSS    sizeFlag
}

func (c *common) register(fs *flag.FlagSet, duration time.Duration) {
	fs.Var(&c.urls, "url", "server WebSocket URL (repeat, or comma-separate, for several processes; ws://host:port means ws://host:port/ws)")
	fs.IntVar(&c.sourceAddrs, "source-addrs", 0, "spread connections over source addresses 127.0.0.1..N (loopback servers; each address allows ~28,000 connections to one server)")
	fs.DurationVar(&c.duration, "duration", duration, "steady window measured (replay: time limit, 0 for none)")
	fs.DurationVar(&c.rampUp, "ramp-up", 0, "spread client starts over this long before the steady window")
	fs.DurationVar(&c.connectTimeout, "connect-timeout", 10*time.Second, "limit for one dial, handshake and open")
	fs.DurationVar(&c.syncTimeout, "sync-timeout", 60*time.Second, "limit for draining acks and the convergence check")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the edits (client i uses seed+i)")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress line on stderr")
	fs.BoolVar(&c.followOwner, "follow-owner", false, "Go clients ask to be moved to the process owning their document (protocol §15; servers with -redis-url and -advertise-url)")
	fs.BoolVar(&c.noMetrics, "no-metrics", false, "do not scrape the servers' /metrics")
	fs.Var(&c.metricsURLs, "metrics-url", "server metrics URL (repeatable); default http://<url host>/metrics for each -url")
	fs.StringVar(&c.jsonOut, "json", "", "write the report as JSON to this file")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write the load generator's own CPU profile to this file (it shares the machine with the server)")
	fs.StringVar(&c.logLevel, "log-level", "disabled", "Go clients' log level (debug, info, warn, error, disabled), on stderr")
	c.th = loadgen.DefaultThresholds()
	t := &c.th
	fs.DurationVar(&t.MaxAckP50, "max-ack-p50", 0, "fail if ack latency p50 is above this")
	fs.DurationVar(&t.MaxAckP99, "max-ack-p99", 0, "fail if ack latency p99 is above this")
	fs.DurationVar(&t.MaxRemoteP50, "max-remote-p50", 0, "fail if remote-delivery latency p50 is above this")
	fs.DurationVar(&t.MaxRemoteP99, "max-remote-p99", 0, "fail if remote-delivery latency p99 is above this")
	fs.Float64Var(&t.MinOps, "min-ops", 0, "fail if fewer acknowledged ops/s than this (steady window)")
	fs.Float64Var(&t.MinDelivered, "min-delivered", 0, "fail if fewer delivered ops/s (to other clients) than this")
	fs.Float64Var(&t.MinEdits, "min-edits", 0, "fail if fewer edits/s (keystrokes, trace patches) than this")
	fs.Int64Var(&t.MaxRefused, "max-refused", -1, "fail if more ops are refused (-1: no limit)")
	fs.Int64Var(&t.MaxErrors, "max-errors", -1, "fail if more errors are reported (-1: no limit)")
	fs.Int64Var(&t.MaxConnectFailures, "max-connect-failures", 0, "fail if more connections fail (-1: no limit)")
	fs.Var(&c.maxMem, "max-mem-per-conn", "storm: fail if server RSS grows more than this per connection (e.g. 16KB)")
	fs.Var(&c.maxRSS, "max-rss", "fail if the server's RSS exceeds this (e.g. 200MB)")
}

// options turns the flags into loadgen.Options.
func (c *common) options(stderr io.Writer) (loadgen.Options, error) {
	lvl, err := zerolog.ParseLevel(c.logLevel)
	if err != nil {
		return loadgen.Options{}, fmt.Errorf("log level: %w", err)
	}
	if len(c.urls) == 0 {
		return loadgen.Options{}, fmt.Errorf("no -url given")
	}
	o := loadgen.Options{
		URLs: c.urls, SourceAddrs: c.sourceAddrs, Duration: c.duration, RampUp: c.rampUp, Seed: c.seed,
		NoMetrics: c.noMetrics, ConnectTimeout: c.connectTimeout, SyncTimeout: c.syncTimeout, FollowOwner: c.followOwner,
		Logger: zerolog.New(zerolog.ConsoleWriter{Out: stderr}).Level(lvl).With().Timestamp().Logger(),
	}
	if len(c.metricsURLs) > 0 {
		o.MetricsURLs = c.metricsURLs
	}
	if !c.quiet {
		o.Progress = stderr
	}
	c.th.MaxMemPerConn, c.th.MaxRSS = float64(c.maxMem), float64(c.maxRSS)
	return o, nil
}

// finish checks the thresholds, prints and saves the report, and returns
// the exit code.
// run builds the options, runs scenario under the CPU profile if one was
// asked for, and reports: the steps every subcommand shares.
func (c *common) run(stdout, stderr io.Writer, scenario func(loadgen.Options) (*loadgen.Report, error)) int {
	o, err := c.options(stderr)
	if err != nil {
		return c.finish(nil, err, stdout, stderr)
	}
	stop, err := startProfile(c.cpuProfile)
	if err != nil {
		return c.finish(nil, err, stdout, stderr)
	}
	rp, err := scenario(o)
	stop()
	return c.finish(rp, err, stdout, stderr)
}

func (c *common) finish(rp *loadgen.Report, err error, stdout, stderr io.Writer) int {
	if err != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		return exitUsage
	}
	pass := c.th.Check(rp)
	rp.Print(stdout)
	if c.jsonOut != "" {
		if err := rp.WriteJSON(c.jsonOut); err != nil {
			fmt.Fprintf(stderr, "loadtest: %v\n", err)
			return exitUsage
		}
	}
	if !pass {
		return exitFail
	}
	return exitPass
}

// parse parses a scenario's flags; it returns false and the exit code if
// the scenario should not run.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) (int, bool) {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitPass, false
		}
		return exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadtest: unexpected arguments %q\n", fs.Args())
		return exitUsage, false
	}
	return 0, true
}

// listFlag is a repeatable, comma-separable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

// sizeFlag is a byte count: 16384, 16KB, 16KiB, 200MB, 1GB (KB = 1024).
type sizeFlag float64

func (s *sizeFlag) String() string { return strconv.FormatFloat(float64(*s), 'f', -1, 64) }

func (s *sizeFlag) Set(v string) error {
	u := strings.ToUpper(strings.TrimSpace(v))
	mult := 1.0
	for _, suf := range []struct {
		s string
		m float64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(u, suf.s) {
			u, mult = strings.TrimSuffix(u, suf.s), suf.m
			break
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(u), 64)
	if err != nil || f < 0 {
		return fmt.Errorf("size %q: want bytes like 16384, 16KB or 200MB", v)
	}
	*s = sizeFlag(f * mult)
	return nil
}
