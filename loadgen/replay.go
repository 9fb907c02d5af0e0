package loadgen

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/trace"
)

// Replay configures the replay scenario: each trace replayed Copies times
// at once, each copy into its own new document by its own connection.
type Replay struct {
	// Traces are file paths, or names in trace.Dir() ("automerge-paper",
	// "seph-blog1.json.gz").
	Traces []string
	Copies int // default 1
	// Limit replays only each trace's first Limit patches (0: all); the
	// expected text is then computed locally.
	Limit int
	// Pace is PaceFull (default), PaceReal or "<n>/s"; MaxGap (default
	// 1 s) and Speed (default 1) shape real time.
	Pace   string
	MaxGap time.Duration
	Speed  float64
	// Window 0 replays with the Go client: one op in flight, later patches
	// composed into the next op, as an editor sends them. Window N > 0
	// replays over a bare socket with every patch its own op and up to N
	// unacknowledged at once, which measures the server per op.
	Window    int
	DocPrefix string
}

// ReplayResult is one trace's outcome over all its copies.
type ReplayResult struct {
	Trace  string `json:"trace"`
	Engine string `json:"engine"`
	Copies int    `json:"copies"`
	// Patches per copy; OpsAcked over all copies (with the Go client,
	// fewer than patches: edits made while an op is in flight are sent
	// composed as one).
	Patches  int    `json:"patches"`
	OpsAcked uint64 `json:"ops_acked"`
	// ElapsedSec runs from the first send to the last ack, over the
	// slowest copy.
	ElapsedSec  float64 `json:"elapsed_s"`
	EditsPerSec float64 `json:"edits_per_s"`
	OpsPerSec   float64 `json:"ops_per_s"`
	Match       bool    `json:"match"`
	Problem     string  `json:"problem,omitempty"`
}

// loadedTrace is a trace ready to replay.
type loadedTrace struct {
	name, path string
	start, end string
	ops        []document.Op
	pace       *pacer
}

// copyResult is one copy's outcome.
type copyResult struct {
	elapsed time.Duration
	acked   uint64
	problem string // "" if the server's final text is the expected one
}

func (rp *Replay) setDefaults(tag string) error {
	if len(rp.Traces) == 0 {
		return fmt.Errorf("replay: no trace given")
	}
	if rp.Copies <= 0 {
		rp.Copies = 1
	}
	if rp.MaxGap <= 0 {
		rp.MaxGap = time.Second
	}
	if rp.Speed <= 0 {
		rp.Speed = 1
	}
	if rp.DocPrefix == "" {
		rp.DocPrefix = "lt-" + tag + "-replay-"
	}
	return nil
}

// RunReplay replays every trace's copies at once and checks that each
// document ends as the trace does. o.Duration, if set, is a time limit.
func RunReplay(ctx context.Context, o Options, cfg Replay) (*Report, error) {
	tag := runTag()
	if err := cfg.setDefaults(tag); err != nil {
		return nil, err
	}
	traces, err := loadTraces(cfg)
	if err != nil {
		return nil, err
	}
	r, err := newRun(ctx, "replay", o, map[string]any{"traces": cfg.Traces, "copies": cfg.Copies,
		"limit": cfg.Limit, "pace": cfg.Pace, "max_gap_s": cfg.MaxGap.Seconds(), "speed": cfg.Speed, "window": cfg.Window})
	if err != nil {
		return nil, err
	}
	r.tag = tag
	if o.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Duration)
		defer cancel()
	}
	r.beginSteady(ctx)
	results := r.replayAll(ctx, cfg, traces)
	r.endSteady(context.WithoutCancel(ctx))
	r.rp.Replay = results
	r.rp.Counts.Clients = len(traces) * cfg.Copies
	return r.finish(), nil
}

// replayAll runs every copy of every trace on its own goroutine.
func (r *run) replayAll(ctx context.Context, cfg Replay, traces []*loadedTrace) []ReplayResult {
	out := make([][]copyResult, len(traces))
	var wg sync.WaitGroup
	for ti, tr := range traces {
		out[ti] = make([]copyResult, cfg.Copies)
		for k := range cfg.Copies {
			i := ti*cfg.Copies + k
			doc := fmt.Sprintf("%s%d", cfg.DocPrefix, i)
			wg.Go(func() {
				if cfg.Window > 0 {
					out[ti][k] = r.replayPipelined(ctx, i, tr, doc, cfg.Window)
				} else {
					out[ti][k] = r.replayClient(ctx, i, tr, doc)
				}
			})
		}
	}
	wg.Wait()
	engine := "client"
	if cfg.Window > 0 {
		engine = fmt.Sprintf("pipelined, window %d", cfg.Window)
	}
	res := make([]ReplayResult, len(traces))
	for ti, tr := range traces {
		res[ti] = summarizeCopies(tr, engine, out[ti])
	}
	return res
}

func summarizeCopies(tr *loadedTrace, engine string, copies []copyResult) ReplayResult {
	res := ReplayResult{Trace: tr.name, Engine: engine, Copies: len(copies), Patches: len(tr.ops), Match: true}
	var slowest time.Duration
	for _, c := range copies {
		res.OpsAcked += c.acked
		slowest = max(slowest, c.elapsed)
		if c.problem != "" && res.Match {
			res.Match, res.Problem = false, c.problem
		}
	}
	res.ElapsedSec = slowest.Seconds()
	if res.ElapsedSec > 0 {
		res.EditsPerSec = float64(res.Patches*res.Copies) / res.ElapsedSec
		res.OpsPerSec = float64(res.OpsAcked) / res.ElapsedSec
	}
	return res
}

// loadTraces loads and prepares every trace.
func loadTraces(cfg Replay) ([]*loadedTrace, error) {
	var out []*loadedTrace
	for _, name := range cfg.Traces {
		path, err := findTrace(name)
		if err != nil {
			return nil, err
		}
		t, err := trace.Load(path)
		if err != nil {
			return nil, err
		}
		lt := &loadedTrace{name: traceName(path), path: path, start: t.StartContent, end: t.EndContent, ops: t.Ops()}
		if cfg.Limit > 0 && cfg.Limit < len(lt.ops) {
			if lt.end, err = applyAll(lt.start, lt.ops[:cfg.Limit]); err != nil {
				return nil, fmt.Errorf("trace %s: %w", name, err)
			}
			lt.ops = lt.ops[:cfg.Limit]
		}
		if lt.pace, err = newPacer(cfg.Pace, t.Times, cfg.MaxGap, cfg.Speed); err != nil {
			return nil, err
		}
		out = append(out, lt)
	}
	return out, nil
}

// findTrace resolves a path, or a name in trace.Dir() with or without
// its .json.gz / .json extension.
func findTrace(name string) (string, error) {
	if _, err := os.Stat(name); err == nil {
		return name, nil
	}
	dir := trace.Dir()
	for _, ext := range []string{"", ".json.gz", ".json"} {
		p := filepath.Join(dir, name+ext)
		if _, err := os.Stat(p); err == nil && dir != "" {
			return p, nil
		}
	}
	return "", fmt.Errorf("trace %q: not a file, nor in the traces directory %q (set %s)", name, dir, trace.EnvDir)
}

func traceName(path string) string {
	base := filepath.Base(path)
	return strings.TrimSuffix(strings.TrimSuffix(base, ".gz"), ".json")
}

// applyAll applies ops to start.
func applyAll(start string, ops []document.Op) (string, error) {
	t := document.NewText(start)
	for i, op := range ops {
		if err := t.Apply(op); err != nil {
			return "", fmt.Errorf("patch %d: %w", i, err)
		}
	}
	return t.String(), nil
}

// allOps returns the ops a copy sends: the start content first, if any.
func (lt *loadedTrace) allOps() []document.Op {
	if lt.start == "" {
		return lt.ops
	}
	return append([]document.Op{document.FromPatch(0, 0, lt.start)}, lt.ops...)
}

// verify reads the copy's document back on a fresh client and compares it
// with the trace's end.
func (r *run) verify(ctx context.Context, i int, doc string, lt *loadedTrace) string {
	t, err := r.readBack(ctx, i, doc)
	switch {
	case err != nil:
		return fmt.Sprintf("read back %s: %v", doc, err)
	case t.text != lt.end:
		return fmt.Sprintf("%s: server text is %d bytes at version %d, trace end %d bytes", doc, len(t.text), t.version, len(lt.end))
	}
	return ""
}
