// Package servertest runs the real server binary (cmd/server) as child
// processes for tests, in the spirit of net/http/httptest and redistest:
// what a test of crashes, restarts, timers and several processes must see
// is exactly what an in-process hub hides — a SIGKILL mid-commit, a
// process that keeps its sockets while another takes over its documents,
// a restart on the same data directory.
//
// Binary builds cmd/server with a plain `go build` (no -race: the server
// runs at the speed it has in production, and the race detector stays on
// the test process that checks it), or takes $SERVERTEST_BINARY instead.
// It builds once per change of the server's sources, not once per test
// binary: the build is cached ($SERVERTEST_CACHE, by default in the
// user's cache directory) under a hash of everything it reads, and the
// packages of one `go test ./...` wait for the first one's build rather
// than each building it. Run, called from TestMain, lets go of the build
// afterwards. Start launches a server on
// 127.0.0.1:0 (or a given address) with a data directory and flags, and
// waits for its "listening" log line; Kill (SIGKILL), Stop (SIGTERM) and
// Restart (same data directory, flags and port, so clients can reconnect
// to the URL they know) control it, Metrics scrapes its /metrics, and PID
// names its process (for /proc).
//
// # Logs
//
// Each server's JSON log (stderr and stdout, every run) is written to a
// file in the test's temporary directory; Logs returns it. When the test
// has failed, Cleanup prints the last lines of each server's log, and
// copies the whole file to $SERVERTEST_KEEP_LOGS when that names a
// directory.
//
// # Processes and goroutines
//
// Each run of a server is one child process and one goroutine, which
// copies its output to the log file, then waits for the process and
// closes a channel. Kill, Stop and Restart wait for that goroutine;
// Cleanup, registered by Start, kills whatever is still running. A run
// that exits by itself — a panic, a failed start — fails the test at
// Cleanup, with its log, unless the test expected it and said so with
// Wait, which returns the exit status (after Signal(syscall.SIGTERM), for
// instance). On Linux the child also gets SIGKILL if the test
// binary dies, so a crashed test leaks no server.
package servertest
