package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/collabedit/collab/internal/mounttest"
	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/redistest"
	"github.com/collabedit/collab/servertest"
)

// getStatus fetches url and returns its status and body.
func getStatus(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// waitStatus polls url until it answers status, and returns the body.
func waitStatus(t *testing.T, url string, status int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var code int
	var body string
	if !poll.Wait(ctx, func() bool { code, body = getStatus(t, url); return code == status }) {
		t.Fatalf("GET %s = %d %q, want %d", url, code, body, status)
	}
	return body
}

// TestReadiness: /readyz checks the event log and Redis for real, and
// /healthz stays a liveness check. Before, /healthz said "ok" whatever
// the state of either, and there was no /readyz.
func TestReadiness(t *testing.T) {
	t.Parallel()
	t.Run("redis down and back", func(t *testing.T) {
		rds := redistest.Start(t)
		srv := servertest.Start(t, servertest.Options{Args: []string{"-redis-url", rds.URL()}})
		ready := "http://" + srv.Addr() + "/readyz"
		if body := waitStatus(t, ready, http.StatusOK); !strings.Contains(body, "eventlog: ok") || !strings.Contains(body, "redis: ok") {
			t.Fatalf("/readyz body %q", body)
		}
		rds.Kill()
		if body := waitStatus(t, ready, http.StatusServiceUnavailable); !strings.Contains(body, "redis: ") || !strings.Contains(body, "eventlog: ok") {
			t.Fatalf("/readyz with Redis down: %q", body)
		}
		if code, _ := getStatus(t, "http://"+srv.Addr()+"/healthz"); code != http.StatusOK {
			t.Fatalf("/healthz = %d while Redis is down: the process is alive", code)
		}
		rds.Restart()
		waitStatus(t, ready, http.StatusOK)
	})
	t.Run("redis cluster, a shard down, then every node", func(t *testing.T) {
		cluster := redistest.StartCluster(t, 3, 1)
		srv := servertest.Start(t, servertest.Options{Args: []string{"-redis-url", cluster.URL()}})
		ready := "http://" + srv.Addr() + "/readyz"
		if body := waitStatus(t, ready, http.StatusOK); !strings.Contains(body, "redis: ok\n") {
			t.Fatalf("/readyz body %q", body)
		}
		// A shard with no replica left to take over: down for good. With
		// cluster-require-full-coverage no, the other shards serve on.
		for _, n := range cluster.Nodes() {
			if _, err := n.Do("CONFIG", "SET", "cluster-require-full-coverage", "no"); err != nil {
				t.Fatal(err)
			}
		}
		m := cluster.MasterOf("{doc}")
		for _, r := range cluster.ReplicasOf(m) {
			r.Kill()
		}
		m.Kill()
		// Degraded, not unready: every process sees the same shard down.
		var code int
		var body string
		poll.Until(t, "/readyz to report the shard", func() bool {
			code, body = getStatus(t, ready)
			return strings.Contains(body, "1 of 3 masters did not answer")
		})
		if code != http.StatusOK || !strings.Contains(body, m.Addr()) {
			t.Fatalf("/readyz with a shard down: %d %q, want 200 naming it", code, body)
		}
		// With Redis's default, the cluster then refuses every key.
		for _, n := range cluster.Masters() {
			if _, err := n.Do("CONFIG", "SET", "cluster-require-full-coverage", "yes"); err != nil {
				t.Fatal(err)
			}
		}
		if body := waitStatus(t, ready, http.StatusServiceUnavailable); !strings.Contains(body, "cluster_state:fail") {
			t.Fatalf("/readyz with the cluster failing: %q", body)
		}
		for _, n := range cluster.Nodes() {
			n.Kill()
		}
		if body := waitStatus(t, ready, http.StatusServiceUnavailable); !strings.Contains(body, "redis: ") || strings.Contains(body, "redis: ok") || strings.Contains(body, "cluster_state") {
			t.Fatalf("/readyz with the whole cluster down: %q", body)
		}
	})
	t.Run("disk below the reserve", func(t *testing.T) {
		dir := mounttest.Tmpfs(t, 16<<20)
		srv := servertest.Start(t, servertest.Options{Dir: dir, Args: []string{"-min-free-disk", "64000000"}})
		body := waitStatus(t, "http://"+srv.Addr()+"/readyz", http.StatusServiceUnavailable)
		if !strings.Contains(body, "eventlog: ") || !strings.Contains(body, "reserve") {
			t.Fatalf("/readyz below the reserve: %q", body)
		}
	})
}
