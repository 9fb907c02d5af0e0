package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
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

// readyHandler answers /readyz: 200 when every check passes, 503 when one
// fails, with one "name: ok" or "name: <error>" line per check. /healthz
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
			if errs[i] != nil {
				status = http.StatusServiceUnavailable
				fmt.Fprintf(&b, "%s: %v\n", c.name, errs[i])
			} else {
				fmt.Fprintf(&b, "%s: ok\n", c.name)
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(b.String()))
	}
}
