package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// readyTimeout bounds one readiness check: a load balancer polls every few
// seconds, and a stuck disk or a paused Redis must be reported, not wait
// for its own timeouts.
const readyTimeout = 2 * time.Second

// check is one dependency /readyz looks at.
type check struct {
	name  string
	probe func(context.Context) error
}

// degraded is what a probe returns when its dependency serves, but not
// wholly: /readyz stays 200 and says what is missing.
type degraded struct{ error }

// readyHandler answers /readyz: 200 when every check passes (or is only
// degraded), 503 when one fails, with one "name: ok", "name: ok, but
// <what>" or "name: <error>" line per check. /healthz
// stays a liveness check (the process answers HTTP); /readyz says whether
// it can serve edits now, so that a load balancer sends clients elsewhere
// while its disk or Redis is failing.
func readyHandler(checks []check) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		errs := make([]error, len(checks))
		var wg sync.WaitGroup
		for i, c := range checks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = c.probe(ctx)
			}()
		}
		wg.Wait()
		var b strings.Builder
		status := http.StatusOK
		for i, c := range checks {
			var d degraded
			switch {
			case errors.As(errs[i], &d):
				fmt.Fprintf(&b, "%s: ok, but %v\n", c.name, d.error)
			case errs[i] != nil:
				status = http.StatusServiceUnavailable
				fmt.Fprintf(&b, "%s: %v\n", c.name, errs[i])
			default:
				fmt.Fprintf(&b, "%s: ok\n", c.name)
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(b.String()))
	}
}

// redisProbe checks Redis for /readyz. A single Redis must answer PING. On
// a cluster every master is pinged, and the process is ready while at
// least one answers and the cluster serves: a dead shard is the same for
// every process, so taking them all out of the load balancer would turn
// a third of the documents unavailable into all of them, and a PING of
// one random node (go-redis's choice for a keyless command) flapped with
// the odds of hitting the dead one. The shards that did not answer are
// named in the body. Not ready: a process that reaches no master (cut off
// from Redis), or a cluster in cluster_state:fail, which refuses every
// document's keys (a shard without a master, under Redis's default
// cluster-require-full-coverage yes).
func redisProbe(rc redis.UniversalClient) func(context.Context) error {
	cc, ok := rc.(*redis.ClusterClient)
	if !ok {
		return func(ctx context.Context) error { return rc.Ping(ctx).Err() }
	}
	return func(ctx context.Context) error {
		var mu sync.Mutex
		var failed []string
		var alive *redis.Client
		answered := 0
		err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			perr := c.Ping(ctx).Err()
			mu.Lock()
			defer mu.Unlock()
			if perr != nil {
				failed = append(failed, fmt.Sprintf("%s: %v", c.Options().Addr, perr))
			} else {
				answered++
				alive = c
			}
			return nil
		})
		slices.Sort(failed)
		switch {
		case err != nil:
			return fmt.Errorf("cluster: %w", err)
		case answered == 0:
			return fmt.Errorf("no master answered: %s", strings.Join(failed, "; "))
		case len(failed) == 0:
			return nil
		}
		info, err := alive.ClusterInfo(ctx).Result()
		switch {
		case err != nil:
			return fmt.Errorf("cluster info: %w", err)
		case strings.Contains(info, "cluster_state:fail"):
			return fmt.Errorf("cluster_state:fail, every document refused until the shard is back; masters that did not answer: %s", strings.Join(failed, "; "))
		}
		return degraded{fmt.Errorf("%d of %d masters did not answer (their documents are unavailable until a replica takes over): %s",
			len(failed), len(failed)+answered, strings.Join(failed, "; "))}
	}
}
