// Package pgtest runs a real PostgreSQL server for tests, in the spirit of
// redistest: a postgres child process on a free loopback port, with its
// own data directory (initdb) and unix-socket directory in a temporary
// directory, removed when the server stops.
//
// Tests run as root on CI and initdb refuses root, so when the test
// binary is root the server runs as the unprivileged user nobody
// (SysProcAttr.Credential), its directories chowned to it.
//
// # One server per package, one database per test
//
// initdb takes ~2 s, CREATE DATABASE ~50 ms: Shared starts one server per
// test binary on first use (fsync off: test data needs no durability) and
// DB creates a fresh database on it for one test, dropped in the test's
// Cleanup. SharedWith(tb, Config{Durable: true}) is a second shared
// server with fsync and synchronous_commit on, for benchmarks. A package
// that uses them calls Main from its TestMain (or Close after its own
// m.Run) so the servers stop and their directories go when the tests
// end. Fault tests that stop or kill the server take one of their own
// with Start.
//
// # Processes and goroutines
//
// A Server owns one postgres process (the postmaster) at a time and one
// goroutine that waits for it and closes a channel when it exits. Stop
// shuts it down cleanly (SIGINT, "fast" shutdown: sessions are
// disconnected, the data is checkpointed), Kill crashes it (SIGKILL: the
// next Start runs crash recovery), Start runs it again on the same port
// and data. On Linux the postmaster also gets SIGKILL if the test binary
// dies, and its backends exit on their own when it is gone, so a crashed
// test leaks no server.
//
// The binaries (initdb, postgres) are looked up on PATH, in /usr/local/bin
// and in /usr/lib/postgresql/<version>/bin (Debian's package);
// ./scripts/test.sh installs them. Without them the test skips, or fails
// under CI (internal/testenv).
package pgtest
