package soak

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// The documents of the soak: four edited all along, and one edited in
// bursts with pauses longer than the idle timeout (burstDriver).
var (
	steadyDocs = []string{"steady0", "steady1", "steady2", "steady3"}
	burstyDoc  = "bursty"
	soakDocs   = append(append([]string(nil), steadyDocs...), burstyDoc)
)

// perDoc is the number of clients on each document: 5 × 6 = 30.
const perDoc = 6

// member is a client that must end at the log's version and text.
type member interface {
	memberName() string
	// position returns the version and text the client has, and whether
	// it has the document open at all.
	position() (version int64, text string, open bool)
}

func (ed *editor) memberName() string { return ed.cfg.name }

func (ed *editor) position() (int64, string, bool) {
	d := ed.doc()
	if d == nil {
		return 0, "", false
	}
	return d.Version(), d.Text(), true
}

func (c *rawClient) memberName() string { return c.cfg.name }

func (c *rawClient) position() (int64, string, bool) {
	v, text, _ := c.state()
	return v, text, true
}

// cast is every client of the soak.
type cast struct {
	editors      []*editor
	raws         []*rawClient
	byDoc        map[string][]member
	bursty       *burstDriver
	cancel       context.CancelFunc // stops every client goroutine
	cancelBursty context.CancelFunc
	stopOnce     sync.Once
}

// startCast starts 6 clients per document. Client j of document k
// connects to process (k+j) mod 3, so every document has clients on
// every process: j = 0, 1 are Go editors and j = 2 a raw reader that stay
// where they connect (their ops are forwarded to the owner); j = 3, 4
// are Go editors and j = 5 a raw reader that follow the owner (§15).
// Editors type every 50–300 ms; readers write every 1–3 s. One editor
// per document announces its presence.
func startCast(t *testing.T, e *env, cl *cluster) *cast {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cs := &cast{byDoc: make(map[string][]member), cancel: cancel}
	t.Cleanup(cs.stop)
	for k, doc := range soakDocs {
		for j := 0; j < perDoc; j++ {
			proc, routed := (k+j)%len(cl.procs), j >= 3
			component := uint64(100 + 10*k + j)
			if j == 2 || j == 5 {
				r := startRaw(ctx, e, rawConfig{name: fmt.Sprintf("r%d%d", k, j), doc: doc, endpoints: cl.urls(proc),
					routed: routed, marker: fmt.Sprintf("🦉r%d%d ", k, j), writeMin: time.Second, writeMax: 3 * time.Second,
					retry: 100 * time.Millisecond}, e.set.rng(component))
				cs.raws = append(cs.raws, r)
				cs.byDoc[doc] = append(cs.byDoc[doc], r)
				continue
			}
			ed, err := startEditor(ctx, e, editorConfig{name: fmt.Sprintf("e%d%d", k, j), doc: doc, urls: cl.urls(proc),
				routed: routed, presence: j == 0, typeMin: 50 * time.Millisecond, typeMax: 300 * time.Millisecond}, e.set.rng(component))
			if err != nil {
				t.Fatalf("start the soak's clients: %v", err)
			}
			cs.editors = append(cs.editors, ed)
			cs.byDoc[doc] = append(cs.byDoc[doc], ed)
		}
	}
	cs.startBursty(ctx, e, cl)
	return cs
}

// startBursty hands the bursty document's clients to a burst driver.
func (cs *cast) startBursty(ctx context.Context, e *env, cl *cluster) {
	b := &burstDriver{e: e, cl: cl, doc: burstyDoc, rng: e.set.rng(99)}
	for _, ed := range cs.editors {
		if ed.cfg.doc == burstyDoc {
			b.editors = append(b.editors, ed)
		}
	}
	for _, r := range cs.raws {
		if r.cfg.doc == burstyDoc {
			b.raws = append(b.raws, r)
		}
	}
	bctx, cancel := context.WithCancel(ctx)
	cs.bursty, cs.cancelBursty = b, cancel
	b.start(bctx)
}

// stopEditing ends the bursts (the bursty document is left open), then
// all typing and writing.
func (cs *cast) stopEditing() {
	cs.cancelBursty()
	cs.bursty.wait()
	for _, ed := range cs.editors {
		ed.typing.Store(false)
	}
	for _, r := range cs.raws {
		r.writing.Store(false)
	}
}

// stop ends every client and waits for all their goroutines. It runs at
// the end of the soak, or at Cleanup if the test failed before.
func (cs *cast) stop() {
	cs.stopOnce.Do(func() {
		cs.cancel()
		if cs.bursty != nil {
			cs.bursty.wait()
		}
		for _, ed := range cs.editors {
			ed.wait()
			_ = ed.c.Close()
		}
		for _, r := range cs.raws {
			r.wait()
		}
	})
}
