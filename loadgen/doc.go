// Package loadgen drives a running collab server with many scripted
// WebSocket clients and reports what it measured: the library behind
// cmd/loadtest.
//
// Role. Each scenario (RunTypists, RunReplay, RunStorm) opens its clients
// against one or several server URLs, runs for its configured time and
// returns a Report: ops sent, acknowledged and refused by error code,
// acknowledgement and remote-delivery latency (HDR histograms, p50 to
// max), a per-second series, errors, the server's own metrics before and
// after (memory, connections, frames sent), and a final convergence check
// in which fresh clients read every document back from the server and
// compare it with what every client holds. Thresholds.Check turns a
// report into pass or fail.
//
// Editors use the project's Go client (package client) by default, so a
// load test exercises the same code real Go clients run. Where that
// client would make the load generator, which shares the machine with the
// server, heavier than the server itself, a raw socket is used instead:
// readers that only watch (reading a frame's type and version, not its
// op), raw editors on request (the client's algorithm run on lengths
// instead of texts: the same ops reach the server), pipelined trace
// replay (many ops in flight on one connection, which the Go client by
// design never does) and idle connections.
//
// Remote-delivery latency is measured in process: an editor's OnAck gives
// the op's send time (now minus the reported latency), which is stored by
// document and version in a lock-free ring (stamps.go); every other client
// receiving that version subtracts it from its receive time. A receipt
// that arrives before the author's ack is parked and resolved later.
//
// Concurrency. A scenario owns every goroutine it starts: one per client
// (connect, then type or read; a raw editor also has a reader), one
// progress ticker, and the Go clients' own. All stop when the scenario's
// context is cancelled or its duration ends, and Run* returns only after
// they have exited. The recorder is safe for
// concurrent use: counters are atomics, histograms are sharded by client
// behind small mutexes and merged once per second by the ticker.
package loadgen
