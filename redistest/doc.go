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
// # Clusters
//
// StartCluster runs a Redis Cluster on loopback: masters × (1 + replicas)
// Servers started with cluster-enabled (each with its own port, cluster
// bus port and directory), joined by redis-cli --cluster create, and
// ready once every node reports cluster_state:ok and every replica is in
// sync. Its node timeout is NodeTimeout, 1 s instead of Redis's 15 s, so
// that KillMasterOf (SIGKILL, a crash) leads to the replica's promotion
// ~2-3 s later, which WaitFailover waits for; FailoverOf hands a master
// over to its replica with CLUSTER FAILOVER, as a planned maintenance
// does. Creating a cluster takes ~5-10 s, so tests that neither kill nor
// fail over share one per test binary through SharedCluster, which
// TestMain stops with StopSharedCluster.
//
// redis-server and redis-cli must be on PATH: ./scripts/test.sh installs
// them (Debian's redis-server package brings redis-tools). Without it
// Start fails the test rather than skipping, so a missing dependency is
// never mistaken for a pass.
package redistest
