package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/internal/jsonhttp"
	"github.com/collabedit/collab/projection"
	"github.com/collabedit/collab/readmodel"
)

// projectionOptions are the projector's settings (-projection-*).
type projectionOptions struct {
	enabled bool // -read-models
	poll    time.Duration
	gather  time.Duration
	retry   time.Duration
	batch   int
	onError string
}

func addProjectionFlags(fs *flag.FlagSet, o *projectionOptions) {
	fs.BoolVar(&o.enabled, "read-models", true, "keep the read models (<data>/readmodels.db) and answer the query API's list, search, entry and authorship; false on hosts that only serve sockets, so that N hosts do not each project every event (those routes then answer 503, and the log-backed ones — text, history, diff — still work)")
	fs.DurationVar(&o.poll, "projection-poll", projection.DefaultPollInterval, "how often the projector polls the event log for events to feed the read models (<data>/readmodels.db); commits also wake it at once")
	fs.DurationVar(&o.gather, "projection-gather", projection.DefaultGather, "how long the projector lets commits gather after a wake-up before applying them in one batch (the read models' lag grows by at most this; negative: none)")
	fs.DurationVar(&o.retry, "projection-retry", projection.DefaultRetryInterval, "wait before a read model retries a batch that failed")
	fs.IntVar(&o.batch, "projection-batch", projection.DefaultBatchSize, "most events a read model applies in one transaction")
	fs.StringVar(&o.onError, "projection-on-error", "skip", "what a read model does with an event it cannot apply, once recorded as a dead letter: skip it, or stop (and fail /readyz)")
}

// registerProjections registers the read models the server maintains.
// Every projection is registered here, before the projector opens.
func registerProjections(p *projection.Projector) error {
	for _, rm := range append([]projection.Projection{projection.Counts{}}, readmodel.All()...) {
		if err := p.Register(rm); err != nil {
			return err
		}
	}
	return nil
}

// commitNotifier is the event log's OnCommit hook: it wakes the projector
// once there is one, without waiting.
type commitNotifier struct {
	p atomic.Pointer[projection.Projector]
}

func (n *commitNotifier) notify() {
	if p := n.p.Load(); p != nil {
		p.Notify()
	}
}

// openProjector opens the read models beside the event log and starts
// feeding them; the caller closes it before closing the store.
func openProjector(ctx context.Context, o projectionOptions, dataDir string, store eventlog.Log, n *commitNotifier, log zerolog.Logger) (*projection.Projector, error) {
	if !o.enabled {
		log.Info().Msg("read models off (-read-models=false): the query API's list, search, entry and authorship answer 503 here")
		return nil, nil
	}
	p := projection.New(filepath.Join(dataDir, "readmodels.db"), store)
	p.PollInterval, p.Gather, p.RetryInterval, p.BatchSize = o.poll, o.gather, o.retry, o.batch
	p.Logger = log.With().Str("component", "projection").Logger()
	switch o.onError {
	case "skip":
		p.OnError = projection.Skip
	case "stop":
		p.OnError = projection.Stop
	default:
		return nil, fmt.Errorf("-projection-on-error %q: want skip or stop", o.onError)
	}
	if err := registerProjections(p); err != nil {
		return nil, err
	}
	if err := p.Open(ctx); err != nil {
		return nil, fmt.Errorf("open read models: %w", err)
	}
	n.p.Store(p)
	return p, nil
}

// rebuildHandler answers POST /admin/rebuild?projection=name: it starts a
// live rebuild of that read model and answers 202 at once.
func rebuildHandler(p *projection.Projector) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("projection")
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		switch err := p.Rebuild(ctx, name); {
		case errors.Is(err, projection.ErrUnknownProjection):
			jsonhttp.Write(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no projection %q", name)})
		case err != nil:
			jsonhttp.Write(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
		default:
			jsonhttp.Write(w, http.StatusAccepted, map[string]string{"rebuilding": name})
		}
	}
}

// noReadModels is the query API's reader on a process run with
// -read-models=false: every read-model answer is refused, saying where
// to ask instead.
type noReadModels struct{}

// errNoReadModels is its refusal.
var errNoReadModels = errors.New("this server process keeps no read models (-read-models=false); ask a process that does")

func (noReadModels) Read(context.Context, string, projection.ReadFunc) error { return errNoReadModels }
