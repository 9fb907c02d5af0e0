package servertest

import (
	"fmt"
	"testing"
)

// StartCluster starts n servers on one data directory, as the processes
// of one cluster, and waits until each listens. Server i is named "p<i>"
// and runs with -process-id p<i> followed by args, so its Name is the id
// the other processes and the leases in Redis know it by. dir "" means a
// new tb.TempDir(). Several processes may share a data directory only
// with -redis-url among args (the server refuses otherwise); servertest
// starts no Redis, redistest does.
func StartCluster(tb testing.TB, n int, dir string, args ...string) []*Server {
	tb.Helper()
	if dir == "" {
		dir = tb.TempDir()
	}
	procs := make([]*Server, n)
	for i := range procs {
		id := fmt.Sprintf("p%d", i)
		procs[i] = Start(tb, Options{Name: id, Dir: dir, Args: append([]string{"-process-id", id}, args...)})
	}
	return procs
}
