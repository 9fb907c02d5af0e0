package loadgen

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Options are the settings every scenario shares.
type Options struct {
	// URLs are the servers' WebSocket endpoints (ws://host:port gets the
	// /ws path). Client i connects to URLs[i % len] and has the others as
	// fallbacks.
	URLs []string
	// SourceAddrs > 1 binds connections round-robin to 127.0.0.1 … N, to
	// open more than the ~28,000 connections one source address allows to
	// one server. Loopback servers only.
	SourceAddrs int
	// Duration is the steady window the rates and latencies cover (for
	// replay: a time limit, 0 for none); RampUp spreads the clients'
	// starts before it.
	Duration, RampUp time.Duration
	// Seed makes the edits reproducible: client i draws from Seed+i.
	Seed uint64
	// Progress receives a live line once a second; nil for none.
	Progress io.Writer
	// MetricsURLs are the servers' Prometheus endpoints; nil derives
	// http://host:port/metrics from each URL. NoMetrics skips scraping.
	MetricsURLs []string
	NoMetrics   bool
	// ConnectTimeout bounds one dial, handshake and open. Default 10 s.
	ConnectTimeout time.Duration
	// SyncTimeout bounds the drain (every op acknowledged) and the
	// convergence check after the steady window. Default 60 s.
	SyncTimeout time.Duration
	// FollowOwner makes Go clients ask to be sent to the process that owns
	// their document (client.Config.FollowOwner, protocol §15), so with
	// several server URLs their ops are not forwarded between processes.
	FollowOwner bool
	// Logger receives the Go clients' logs; the zero value is silent.
	Logger zerolog.Logger
}

func (o *Options) setDefaults() {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.SyncTimeout <= 0 {
		o.SyncTimeout = 60 * time.Second
	}
}

// run is the part of a scenario every scenario shares: the recorder and
// its ticker, the dialers, the server scrapes, and the report.
type run struct {
	opts   Options
	urls   endpoints
	tag    string // unique per run: prefixes client ids and document names
	rec    *recorder
	scr    *scraper // nil without metrics
	rp     *Report
	cpu0   time.Duration
	steady struct {
		cpu     time.Duration // the generator's CPU time when the window opened
		machine cpuStat
		ok      bool // machine is valid
	}
	stop   context.CancelFunc // stops the ticker
	ticker sync.WaitGroup
}

func newRun(ctx context.Context, scenario string, o Options, params map[string]any) (*run, error) {
	o.setDefaults()
	urls, err := normalizeURLs(o.URLs)
	if err != nil {
		return nil, err
	}
	r := &run{opts: o, urls: urls, tag: runTag(), rec: newRecorder(), cpu0: cpuTime()}
	if !o.NoMetrics {
		m := o.MetricsURLs
		if m == nil {
			m = urls.metricsURLs()
		}
		r.scr = newScraper(m)
	}
	params["urls"], params["source_addrs"], params["seed"] = []string(urls), o.SourceAddrs, o.Seed
	params["duration_s"], params["ramp_up_s"] = o.Duration.Seconds(), o.RampUp.Seconds()
	params["follow_owner"] = o.FollowOwner
	r.rp = &Report{Scenario: scenario, Params: params, Started: time.Now()}
	tctx, stop := context.WithCancel(ctx)
	r.stop = stop
	r.rec.startTicker(tctx, &r.ticker, o.Progress)
	return r, nil
}

// runTag returns 5 random base36 characters.
func runTag() string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = digits[int(b[i])%len(digits)]
	}
	return string(b)
}

// dialers returns the run's dialers for sockets with buffers of bufSize.
func (r *run) dialers(bufSize int) (*dialers, error) {
	return newDialers(r.opts.SourceAddrs, bufSize, r.opts.ConnectTimeout)
}

// sample scrapes the servers; a failure becomes a warning in the report.
func (r *run) sample(ctx context.Context) (Sample, bool) {
	if r.scr == nil {
		return Sample{}, false
	}
	s, err := r.scr.sample(ctx)
	if err != nil {
		r.rp.Warnings = append(r.rp.Warnings, fmt.Sprintf("server metrics: %v", err))
		return s, false
	}
	return s, true
}

// beginSteady opens the measurement window and scrapes the servers.
func (r *run) beginSteady(ctx context.Context) {
	if s, ok := r.sample(ctx); ok {
		r.rp.Server = &ServerSide{URLs: r.scr.urls, Before: s}
	}
	r.steady.cpu = cpuTime()
	r.steady.machine, r.steady.ok = readCPUStat()
	r.rec.beginSteady()
}

// endSteady closes the measurement window and scrapes the servers again.
func (r *run) endSteady(ctx context.Context) {
	r.rec.endSteady()
	r.measureCPU()
	if r.rp.Server == nil {
		return
	}
	if s, ok := r.sample(ctx); ok {
		r.rp.Server.After = s
		r.rp.Server.derive()
	} else {
		r.rp.Server = nil
	}
}

// measureCPU records the generator's and the machine's CPU use over the
// steady window.
func (r *run) measureCPU() {
	g := &r.rp.Generator
	g.NumCPU = runtime.NumCPU()
	secs := r.rec.windowSeconds()
	if secs <= 0 {
		return
	}
	g.SteadyCores = (cpuTime() - r.steady.cpu).Seconds() / secs
	if now, ok := readCPUStat(); ok && r.steady.ok {
		g.MachineCores = busyCores(r.steady.machine, now, g.NumCPU)
	}
}

// holdSteady keeps the window open for the run's Duration or until ctx
// ends.
func (r *run) holdSteady(ctx context.Context) {
	t := time.NewTimer(r.opts.Duration)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// finish stops the ticker and completes the report.
func (r *run) finish() *Report {
	r.stop()
	r.ticker.Wait()
	r.rec.finalSample()
	r.rec.fill(r.rp)
	r.rp.Generator.CPUSec = (cpuTime() - r.cpu0).Seconds()
	for _, s := range r.rp.Series {
		r.rp.Generator.PeakConns = max(r.rp.Generator.PeakConns, s.Conns)
	}
	return r.rp
}
