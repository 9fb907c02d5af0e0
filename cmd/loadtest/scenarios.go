package main

import (
	"context"
	"flag"
	"io"
	"time"

	"github.com/collabedit/collab/loadgen"
)

// scenario parses its flags, runs, reports and returns the exit code.
type scenario func(ctx context.Context, args []string, stdout, stderr io.Writer) int

var scenarios = map[string]scenario{
	"typists": runTypists,
	"replay":  runReplay,
	"storm":   runStorm,
	"idle":    runStorm,
}

func runTypists(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadtest typists", flag.ContinueOnError)
	var c common
	c.register(fs, 30*time.Second)
	var t loadgen.Typists
	fs.IntVar(&t.Docs, "docs", 1, "documents")
	fs.IntVar(&t.Editors, "editors", 10, "editors typing in each document (Go clients)")
	fs.IntVar(&t.Readers, "readers", 0, "readers watching each document")
	fs.Float64Var(&t.Rate, "rate", 5, "keystrokes per second per editor")
	fs.StringVar(&t.EditorMode, "editor-mode", loadgen.EditorsClient, "editors: client (Go client) or raw (bare socket running the client's algorithm on lengths: same ops, far less generator CPU)")
	fs.StringVar(&t.ReaderMode, "reader-mode", loadgen.ReadersRaw, "readers: raw (bare socket, parse version only: light on the shared machine) or client (Go client, decode and apply)")
	fs.IntVar(&t.MaxLen, "max-len", 20000, "soft cap on a document's length in code points (above it, editors delete more)")
	fs.StringVar(&t.DocPrefix, "doc-prefix", "", "document names <prefix><n>; default new names on every run")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	return c.run(stdout, stderr, func(o loadgen.Options) (*loadgen.Report, error) {
		return loadgen.RunTypists(ctx, o, t)
	})
}

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadtest replay", flag.ContinueOnError)
	var c common
	c.register(fs, 0)
	var rp loadgen.Replay
	traces := listFlag{}
	fs.Var(&traces, "trace", "trace file, or name in trace/testdata: automerge-paper, seph-blog1 (repeatable; $COLLAB_TRACES_DIR names another directory); default automerge-paper")
	fs.IntVar(&rp.Copies, "copies", 1, "copies of each trace replayed at once, each in its own document")
	fs.IntVar(&rp.Limit, "limit", 0, "replay only the first N patches of each trace (0: all)")
	fs.StringVar(&rp.Pace, "pace", loadgen.PaceFull, "full, real (the trace's own times) or <n>/s")
	fs.DurationVar(&rp.MaxGap, "max-gap", time.Second, "real pace: longest pause kept between transactions")
	fs.Float64Var(&rp.Speed, "speed", 1, "real pace: time runs this many times faster")
	fs.IntVar(&rp.Window, "window", 0, "0: Go client (one op in flight, later patches composed); N: bare socket, one op per patch, N in flight (raise the server's -rate)")
	fs.StringVar(&rp.DocPrefix, "doc-prefix", "", "document names <prefix><n>; default new names on every run")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	rp.Traces = traces
	if len(rp.Traces) == 0 {
		rp.Traces = []string{"automerge-paper"}
	}
	return c.run(stdout, stderr, func(o loadgen.Options) (*loadgen.Report, error) {
		return loadgen.RunReplay(ctx, o, rp)
	})
}

func runStorm(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadtest storm", flag.ContinueOnError)
	var c common
	c.register(fs, 10*time.Second)
	var s loadgen.Storm
	fs.IntVar(&s.Conns, "conns", 1000, "connections to open")
	fs.IntVar(&s.Docs, "docs", 100, "connection i opens document i mod docs (0: open none)")
	fs.IntVar(&s.Concurrency, "concurrency", 256, "connects in flight at once")
	fs.DurationVar(&s.Settle, "settle", 2*time.Second, "pause after the last connect before measuring server memory")
	fs.IntVar(&s.BufSize, "buf-size", 1024, "client socket buffer size in bytes")
	fs.StringVar(&s.DocPrefix, "doc-prefix", "", "document names <prefix><n>; default new names on every run")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	return c.run(stdout, stderr, func(o loadgen.Options) (*loadgen.Report, error) {
		return loadgen.RunStorm(ctx, o, s)
	})
}
