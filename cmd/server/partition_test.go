package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/collabedit/collab/client"
	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/internal/faultnet"
	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/pgtest"
	"github.com/collabedit/collab/redistest"
	"github.com/collabedit/collab/servertest"
)

// seqAck is one acknowledged op of a client of process proc.
type seqAck struct {
	proc int
	id   string
}

// TestPartitionedOwnerStopsFirst: two hosts (processes with their own
// data directories, sharing PostgreSQL), each reaching Redis through its
// own network path, edit one document; the one that
// sequences it is cut off from Redis (a partition: its calls time out,
// nothing is refused) for three lease TTLs, then healed. From the log:
// the cut-off owner sequenced nothing later than one TTL after the cut
// (it could not renew, so it stops before its lease could be taken
// over), the other process took the document over during the partition,
// and afterwards every client agrees with the log, every acknowledged op
// is in it once, and nothing else is.
func TestPartitionedOwnerStopsFirst(t *testing.T) {
	t.Parallel()
	const ttl = time.Second
	rd := redistest.Start(t)
	store := pgtest.DB(t)
	nets := []*faultnet.Proxy{faultnet.Start(t, rd.Addr()), faultnet.Start(t, rd.Addr())}
	var procs []*servertest.Server
	for i, n := range nets {
		id := fmt.Sprintf("p%d", i)
		procs = append(procs, servertest.Start(t, servertest.Options{Name: id, Args: []string{"-store", store,
			"-process-id", id, "-redis-url", "redis://" + n.Addr(), "-lease-ttl", ttl.String(), "-log-level", "warn"}}))
	}
	var mu sync.Mutex
	var acked []seqAck
	var docs []*client.Doc
	clientProc := map[*client.Doc]int{}
	for i := range 4 {
		proc := i % 2
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := client.Dial(ctx, client.Config{URL: procs[proc].URL(),
			ReconnectMin: 20 * time.Millisecond, ReconnectMax: 300 * time.Millisecond,
			OnOrderViolation: func(doc string, v client.OrderViolation) {
				t.Errorf("%s: the server broke the stream's order (protocol §6): %+v", doc, v)
			},
			OnAck: func(_, id string, _ int64, _ time.Duration) {
				mu.Lock()
				acked = append(acked, seqAck{proc, id})
				mu.Unlock()
			}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		d, err := c.Open(ctx, "doc0")
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
		clientProc[d] = proc
		if i == 0 { // p0's client edits first, so p0 takes the lease
			if err := d.Edit(func(string) document.Op { return document.Op{{Insert: "start "}} }); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := d.WaitSynced(ctx)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, d := range docs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 9))
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond): // a typist's pace
				}
				if err := d.Edit(func(text string) document.Op { return randomOp(rng, text) }); err != nil {
					t.Errorf("client %d: %v", i, err)
					return
				}
			}
		}()
	}
	time.Sleep(time.Second) // editing before the partition; a span, not a wait
	cut := time.Now()
	nets[0].Partition()
	time.Sleep(3 * ttl) // the partition's length
	healed := time.Now()
	nets[0].Heal()
	time.Sleep(time.Second) // editing after it
	close(stop)
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i, d := range docs {
		if err := d.WaitSynced(ctx); err != nil {
			t.Fatalf("client %d never synced: %v", i, err)
		}
	}

	cl := &cluster{store: store}
	log := cl.openLog(t)
	defer log.Close()
	text, version := logText(t, log, "doc0")
	for i, d := range docs {
		if !poll.Wait(ctx, func() bool { return d.Version() == version && d.Text() == text }) {
			t.Fatalf("client %d at %d, log at %d", i, d.Version(), version)
		}
	}
	evs, err := log.Events(context.Background(), "doc0", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	sequenced := map[string]time.Time{}
	for _, e := range evs {
		sequenced[e.OpID] = e.Time
	}
	mu.Lock()
	defer mu.Unlock()
	seen := map[string]bool{}
	var lastCutOff, firstTakeover time.Time
	for _, a := range acked {
		if seen[a.id] {
			continue
		}
		seen[a.id] = true
		at, ok := sequenced[a.id]
		switch {
		case !ok:
			t.Fatalf("acknowledged op %s is not in the log", a.id)
		case at.Before(cut) || !at.Before(healed):
		case a.proc == 0:
			// Only p0 can have sequenced its own clients' ops while cut off.
			if at.After(lastCutOff) {
				lastCutOff = at
			}
		case firstTakeover.IsZero() || at.Before(firstTakeover):
			if at.After(cut.Add(ttl)) {
				firstTakeover = at
			}
		}
	}
	if int64(len(seen)) != version {
		t.Fatalf("%d distinct ops acknowledged, %d in the log", len(seen), version)
	}
	if lastCutOff.After(cut.Add(ttl)) {
		t.Fatalf("the cut-off owner sequenced an op %v after the cut, past one lease TTL (%v)", lastCutOff.Sub(cut), ttl)
	}
	if firstTakeover.IsZero() {
		t.Fatalf("no op was sequenced by the other process during the %v partition", healed.Sub(cut))
	}
	t.Logf("cut-off owner's last op %v after the cut; the other process's first %v after it; %d ops, %d characters",
		lastCutOff.Sub(cut).Round(time.Millisecond), firstTakeover.Sub(cut).Round(time.Millisecond), version, len([]rune(text)))
}
