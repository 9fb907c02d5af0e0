// Command loadtest drives a running collab server with many scripted
// WebSocket clients and reports throughput, latency percentiles, errors
// and a final convergence check, as a table and as JSON. It exits 1 when
// a check fails or a threshold given on the command line is crossed, and
// 2 on a usage or setup error.
//
//	loadtest typists -url ws://127.0.0.1:8080/ws -docs 1 -editors 100 -readers 400 -rate 25 -duration 30s
//	loadtest replay  -url ws://127.0.0.1:8080/ws -trace automerge-paper -window 64
//	loadtest storm   -url ws://127.0.0.1:8080/ws -conns 10000 -docs 100 -duration 30s
//
// Run "loadtest <scenario> -h" for a scenario's flags. The scenarios are
// implemented by package loadgen; this command parses flags, prints the
// live progress line on stderr and the report on stdout.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitPass  = 0
	exitFail  = 1 // a check failed or a threshold was crossed
	exitUsage = 2 // bad flags, or the run could not start
)

const usage = `usage: loadtest <scenario> [flags]

scenarios:
  typists   D documents x E editors typing at R keystrokes/s, plus W readers watching
  replay    editing traces replayed through the server; final text checked against the trace
  storm     N connections opened at once and held idle; server memory per connection
  idle      the same as storm

"loadtest <scenario> -h" lists a scenario's flags.
`

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	sc, ok := scenarios[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "loadtest: unknown scenario %q\n\n%s", args[0], usage)
		return exitUsage
	}
	return sc(ctx, args[1:], stdout, stderr)
}
