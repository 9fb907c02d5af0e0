// Package redistest runs a real redis-server for tests, in the spirit of
// net/http/httptest: Start launches a child process on a free loopback
// port with its own temporary directory and no persistence, and the test's
// Cleanup stops it.
//
// Tests use a real server rather than a fake because what they check is
// exactly what a fake gets wrong: pub/sub reconnection after an outage,
// Lua script atomicity, key expiry.
//
// # Processes and goroutines
//
// Each Server owns one redis-server process at a time and one goroutine
// that waits for it (cmd.Wait) and closes a channel when it exits. Kill
// stops the process with SIGKILL and waits for that goroutine; Restart
// starts a new process on the same port; Pause and Resume stop and
// continue it with SIGSTOP and SIGCONT, the outage where Redis hangs
// rather than dies. Cleanup, registered by Start, kills whatever process
// is running, paused or not. On Linux the child also gets SIGKILL if the
// test binary dies, so a crashed test leaks no server.
//
// redis-server must be on PATH: ./scripts/test.sh installs it. Without it
// Start fails the test rather than skipping, so a missing dependency is
// never mistaken for a pass.
package redistest
