package loadgen

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Storm configures the storm scenario: Conns sockets opened as fast as
// Concurrency allows (or spread over the ramp-up), each opening one of
// Docs documents, then held idle for the run's Duration.
type Storm struct {
	Conns int
	// Docs: connection i opens document i mod Docs; 0 opens none (the
	// socket alone).
	Docs int
	// Concurrency bounds connects in flight at once. Default 256.
	Concurrency int
	// Settle is the pause between the last connect and the memory
	// measurement, so the server's allocations of the storm are done.
	// Default 2 s.
	Settle time.Duration
	// BufSize is each client socket's buffer size: the load generator
	// holds every connection too, and gorilla's 4 KB default buffers
	// cost it 80 MB per 10,000. Default 1 KB.
	BufSize   int
	DocPrefix string
}

// StormResult is what the storm measured.
type StormResult struct {
	Attempted int `json:"attempted"`
	Connected int `json:"connected"`
	// Dropped connections closed during the hold.
	Dropped        int64   `json:"dropped"`
	ConnectSec     float64 `json:"connect_s"`
	ConnectsPerSec float64 `json:"connects_per_s"`
	// ServerConns is the growth of the server's connection gauge.
	ServerConns float64 `json:"server_conns"`
	// Per connection, in bytes: RSS, heap in use, goroutine stacks.
	RSSPerConn   float64 `json:"rss_per_conn_bytes"`
	HeapPerConn  float64 `json:"heap_per_conn_bytes"`
	StackPerConn float64 `json:"stack_per_conn_bytes"`
	// Before the storm, after it settled, and at the end of the hold.
	Before       Sample `json:"before"`
	AfterConnect Sample `json:"after_connect"`
	End          Sample `json:"end_of_hold"`
}

func (s *Storm) setDefaults(tag string) error {
	if s.Conns <= 0 {
		return fmt.Errorf("storm: conns must be positive")
	}
	if s.Concurrency <= 0 {
		s.Concurrency = 256
	}
	if s.Settle <= 0 {
		s.Settle = 2 * time.Second
	}
	if s.BufSize <= 0 {
		s.BufSize = 1024
	}
	if s.DocPrefix == "" {
		s.DocPrefix = "lt-" + tag + "-idle-"
	}
	return nil
}

// RunStorm opens the connections, measures the server's memory per
// connection from its /metrics, holds them idle for o.Duration (the
// server pings each every 25 s; a gorilla client answers on its reader
// goroutine) and closes them.
func RunStorm(ctx context.Context, o Options, s Storm) (*Report, error) {
	tag := runTag()
	if err := s.setDefaults(tag); err != nil {
		return nil, err
	}
	r, err := newRun(ctx, "storm", o, map[string]any{"conns": s.Conns, "docs": s.Docs,
		"concurrency": s.Concurrency, "settle_s": s.Settle.Seconds(), "buf_size": s.BufSize})
	if err != nil {
		return nil, err
	}
	r.tag = tag
	dl, err := r.dialers(s.BufSize)
	if err != nil {
		r.finish()
		return nil, err
	}
	res := &StormResult{Attempted: s.Conns}
	r.rp.Storm = res
	res.Before, _ = r.sample(ctx)
	h := &holders{rec: r.rec}
	start := time.Now()
	r.storm(ctx, s, dl, h)
	res.ConnectSec = time.Since(start).Seconds()
	res.Connected = h.count()
	res.ConnectsPerSec = float64(res.Connected) / res.ConnectSec
	sleepCtx(ctx, s.Settle)
	res.AfterConnect, _ = r.sample(ctx)
	res.perConn()
	r.beginSteady(ctx)
	r.holdSteady(ctx)
	res.End, _ = r.sample(ctx)
	r.endSteady(ctx)
	res.Dropped = h.release()
	r.rp.Counts.Clients = res.Connected
	return r.finish(), nil
}

// perConn divides the server's growth from Before to AfterConnect by the
// connections it gained (its own gauge; ours if it has none).
func (res *StormResult) perConn() {
	b, a := res.Before.Values, res.AfterConnect.Values
	if len(a) == 0 || len(b) == 0 {
		return
	}
	res.ServerConns = a["collab_connections"] - b["collab_connections"]
	n := res.ServerConns
	if n <= 0 {
		n = float64(res.Connected)
	}
	if n <= 0 {
		return
	}
	per := func(k string) float64 { return (a[k] - b[k]) / n }
	res.RSSPerConn = per("process_resident_memory_bytes")
	res.HeapPerConn = per("go_memstats_heap_inuse_bytes")
	res.StackPerConn = per("go_memstats_stack_inuse_bytes")
}

// storm opens s.Conns connections, at most s.Concurrency at a time (and,
// with a ramp-up, no faster than spread evenly over it), and hands each
// to h.
func (r *run) storm(ctx context.Context, s Storm, dl *dialers, h *holders) {
	sem := make(chan struct{}, s.Concurrency)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < s.Conns && ctx.Err() == nil; i++ {
		if ramp := r.opts.RampUp; ramp > 0 {
			sleepCtx(ctx, time.Until(t0.Add(time.Duration(int64(ramp)*int64(i)/int64(s.Conns)))))
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			c, lat, err := r.openIdle(ctx, i, s, dl)
			if err != nil {
				r.rec.connectFailed(describeFailure(err))
				return
			}
			r.rec.connected(i, lat)
			h.hold(c)
		})
	}
	wg.Wait()
}

// openIdle dials connection i and opens its document.
func (r *run) openIdle(ctx context.Context, i int, s Storm, dl *dialers) (*rawConn, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.ConnectTimeout)
	defer cancel()
	url, _ := r.urls.forClient(i)
	start := time.Now()
	c, err := dialRaw(ctx, dl.pick(), url)
	if err != nil {
		return nil, 0, err
	}
	if s.Docs > 0 {
		doc := fmt.Sprintf("%s%d", s.DocPrefix, i%s.Docs)
		if err := c.send(openFrame(doc, 0, false)); err != nil {
			c.close()
			return nil, 0, err
		}
		if _, err := c.awaitOpen(r.opts.ConnectTimeout, func(int64) {}); err != nil {
			c.close()
			return nil, 0, err
		}
	}
	return c, time.Since(start), nil
}

// holders keeps idle connections open: one goroutine per connection reads
// (and so answers the server's pings) until the socket closes.
type holders struct {
	rec     *recorder
	mu      sync.Mutex
	conns   []*rawConn
	wg      sync.WaitGroup
	closing atomic.Bool
	dropped atomic.Int64
}

func (h *holders) hold(c *rawConn) {
	h.mu.Lock()
	h.conns = append(h.conns, c)
	h.mu.Unlock()
	h.wg.Go(func() {
		for {
			if _, err := c.read(); err != nil {
				break
			}
		}
		h.rec.disconnected()
		if !h.closing.Load() {
			h.dropped.Add(1)
		}
	})
}

func (h *holders) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// release closes every connection, waits for the readers and returns how
// many connections the server had dropped before.
func (h *holders) release() int64 {
	h.closing.Store(true)
	h.mu.Lock()
	conns := h.conns
	h.mu.Unlock()
	parallel(len(conns), 64, func(i int) { conns[i].close() })
	h.wg.Wait()
	return h.dropped.Load()
}
