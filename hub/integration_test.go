package hub_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/collabedit/collab/client"
	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/internal/testrand"
)

// editor is a client with an ack counter.
type editor struct {
	c    *client.Client
	d    *client.Doc
	acks atomic.Int64
}

func newEditor(t *testing.T, url, doc string) *editor {
	t.Helper()
	return newEditorCfg(t, client.Config{URL: url}, doc)
}

// newEditorCfg is newEditor with client settings; its hooks are set here.
func newEditorCfg(t *testing.T, cfg client.Config, doc string) *editor {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e := &editor{}
	cfg.OnAck = func(string, string, int64, time.Duration) { e.acks.Add(1) }
	cfg.OnError = func(doc string, err error) {
		t.Errorf("client error on %s: %v", doc, err)
	}
	c, err := client.Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	d, err := c.Open(ctx, doc)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	e.c, e.d = c, d
	return e
}

var alphabet = []string{"a", "b", " ", "\n", "😀", "é", "e\u0301", "𠀋", "ß", "中"}

// randomEdit inserts or deletes at a random place in the editor's text.
func randomEdit(rng *rand.Rand, d *client.Doc) error {
	return d.Edit(func(text string) document.Op {
		n := utf8.RuneCountInString(text)
		if n > 0 && rng.IntN(3) == 0 {
			pos := rng.IntN(n)
			return document.FromPatch(pos, 1+rng.IntN(min(5, n-pos)), "")
		}
		var sb strings.Builder
		for i := 1 + rng.IntN(4); i > 0; i-- {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return document.FromPatch(rng.IntN(n+1), 0, sb.String())
	})
}

// TestConcurrentEditorsConverge: several clients make random concurrent
// edits to one document; all of them, a fresh reader and the stored log
// end on the same version and text, and that version is the number of ops
// the clients sent.
func TestConcurrentEditorsConverge(t *testing.T) {
	t.Parallel()
	seed := testrand.Seed(t)
	s := startServer(t, hub.Config{SnapshotEvery: 50})
	const editors, edits = 6, 150
	eds := runEditors(t, []string{s.URL}, "shared", editors, edits, seed, func(rng *rand.Rand, i, j int, e *editor) error {
		return randomEdit(rng, e.d)
	})
	text, version := waitConvergedOnSentOps(t, eds)
	checkServerAgrees(t, s, "shared", text, version)
	t.Logf("%d editors, %d edits each: %d ops, %d characters", editors, edits, version, len([]rune(text)))
}

// waitConvergedOnSentOps is waitConverged that also checks the document's
// version equals the number of ops the editors had acknowledged: none
// lost, none applied twice.
func waitConvergedOnSentOps(t *testing.T, eds []*editor) (string, int64) {
	t.Helper()
	text, version := waitConverged(t, eds)
	var sent int64
	for _, e := range eds {
		sent += e.acks.Load()
	}
	if version != sent {
		t.Fatalf("document at version %d but the clients sent %d ops", version, sent)
	}
	return text, version
}

// runEditors connects n editors to doc, spread over urls, and has each make steps edits
// concurrently with edit, pausing up to 2 ms between edits so that ops
// interleave; each editor's random source derives from seed.
func runEditors(t *testing.T, urls []string, doc string, n, steps int, seed uint64, edit func(rng *rand.Rand, i, j int, e *editor) error) []*editor {
	t.Helper()
	eds := make([]*editor, n)
	for i := range eds {
		eds[i] = newEditor(t, urls[i%len(urls)], doc)
	}
	var wg sync.WaitGroup
	for i, e := range eds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			for j := 0; j < steps; j++ {
				if err := edit(rng, i, j, e); err != nil {
					t.Errorf("editor %d edit %d: %v", i, j, err)
					return
				}
				time.Sleep(time.Duration(rng.IntN(2000)) * time.Microsecond) // random pacing interleaves the editors' ops
			}
		}()
	}
	wg.Wait()
	return eds
}

// waitConverged waits until every editor has nothing pending and all share
// one version and text, and returns them.
func waitConverged(t *testing.T, eds []*editor) (string, int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, e := range eds {
		if err := e.d.WaitSynced(ctx); err != nil {
			t.Fatalf("editor %d never synced: %v", i, err)
		}
	}
	var text string
	var version int64
	poll.Until(t, "all editors to reach the same version and text", func() bool {
		text, version = eds[0].d.Text(), eds[0].d.Version()
		for _, e := range eds[1:] {
			if e.d.Version() != version || e.d.Text() != text {
				return false
			}
		}
		return true
	})
	return text, version
}

// checkServerAgrees compares a fresh reader's snapshot and a replay of the
// stored log with the converged text.
func checkServerAgrees(t *testing.T, s *testServer, doc, text string, version int64) {
	t.Helper()
	if snap := dial(t, s.URL).open(doc); snap.Text != text || snap.Version != version {
		t.Fatalf("fresh reader sees version %d %q, editors have %d %q", snap.Version, snap.Text, version, text)
	}
	events, err := s.Store.Events(context.Background(), doc, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	replayed := ""
	for i, ev := range events {
		var op document.Op
		if err := op.UnmarshalJSON(ev.Op); err != nil {
			t.Fatalf("stored op %d: %v", i, err)
		}
		if replayed, err = document.Apply(replayed, op); err != nil {
			t.Fatalf("stored op %d does not apply: %v", i, err)
		}
	}
	if int64(len(events)) != version || replayed != text {
		t.Fatalf("log holds %d events replaying to %q; want %d and %q", len(events), replayed, version, text)
	}
}

// TestReconnectMidEditLosesNothing: editors insert unique tokens while one
// of them has its connection cut again and again; afterwards every token
// is in the text exactly once.
func TestReconnectMidEditLosesNothing(t *testing.T) {
	t.Parallel()
	seed := testrand.Seed(t)
	s := startServer(t, hub.Config{})
	const editors, tokens = 4, 60
	eds := runEditors(t, []string{s.URL}, "cut", editors, tokens, seed, func(rng *rand.Rand, i, j int, e *editor) error {
		if i == 0 && j%10 == 5 {
			e.c.Drop() // cut the socket with edits in flight
		}
		return insertToken(rng, e.d, fmt.Sprintf("[%d-%d]", i, j))
	})
	text, version := waitConverged(t, eds)
	for i := 0; i < editors; i++ {
		for j := 0; j < tokens; j++ {
			if n := strings.Count(text, fmt.Sprintf("[%d-%d]", i, j)); n != 1 {
				t.Fatalf("token [%d-%d] appears %d times in %q", i, j, n, text)
			}
		}
	}
	checkServerAgrees(t, s, "cut", text, version)
}

// insertToken inserts tok at a random token boundary, so tokens never split.
func insertToken(rng *rand.Rand, d *client.Doc, tok string) error {
	return d.Edit(func(text string) document.Op {
		bounds := []int{0}
		for i, r := range []rune(text) {
			if r == ']' {
				bounds = append(bounds, i+1)
			}
		}
		return document.FromPatch(bounds[rng.IntN(len(bounds))], 0, tok)
	})
}
