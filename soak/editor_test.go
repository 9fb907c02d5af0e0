package soak

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/collabedit/collab/client"
	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/protocol"
)

// editorConfig configures a Go-client editor.
type editorConfig struct {
	name, doc string
	urls      []string // its own process first; the rest are its Fallbacks
	routed    bool     // client.Config.FollowOwner
	presence  bool     // announce itself in the document
	// typeMin..typeMax is the time between edits: 50–300 ms is a person
	// typing, 2–15 ms keeps an op in flight at all times.
	typeMin, typeMax time.Duration
}

// editor is a person typing through the Go client: random inserts
// (emoji, combining marks, CJK, line breaks) and deletes at random
// places. Its hooks file every finding: acks go to the ledger, errors
// other than unavailable, order violations and unexplained disconnects
// are findings. Its typing goroutine stops when the context given to
// startEditor ends; wait waits for it.
type editor struct {
	cfg    editorConfig
	env    *env
	c      *client.Client
	watch  *connWatch
	typing atomic.Bool
	done   chan struct{}

	mu sync.Mutex  // held while editing, and while the document is closed or reopened
	d  *client.Doc // nil while closed between bursts
}

// startEditor dials, opens the document and starts typing.
func startEditor(ctx context.Context, e *env, cfg editorConfig, rng *rand.Rand) (*editor, error) {
	ed := &editor{cfg: cfg, env: e, watch: newConnWatch(cfg.name, cfg.doc, e.kills, e.found), done: make(chan struct{})}
	ccfg := client.Config{URL: cfg.urls[0], Fallbacks: cfg.urls[1:], FollowOwner: cfg.routed, ClientID: cfg.name,
		ReconnectMin: 50 * time.Millisecond, ReconnectMax: max(time.Second, e.set.leaseTTL)}
	ed.hook(&ccfg)
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := client.Dial(dctx, ccfg)
	if err != nil {
		return nil, fmt.Errorf("editor %s: %w", cfg.name, err)
	}
	ed.c = c
	if err := ed.open(dctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	ed.typing.Store(true)
	go ed.typeAway(ctx, rng)
	return ed, nil
}

// hook wires the client's hooks to the run's records.
func (ed *editor) hook(cfg *client.Config) {
	e, who := ed.env, ed.cfg.name
	ed.watch.hook(cfg)
	cfg.OnAck = func(doc, id string, v int64, _ time.Duration) { e.ledger.ack(e.found, who, doc, id, v) }
	cfg.OnOrderViolation = func(doc string, v client.OrderViolation) {
		e.found.add(checkOrder, who, doc, "%s", v)
	}
	cfg.OnError = func(doc string, err error) {
		var pe *protocol.Error
		if errors.As(err, &pe) && pe.Code == protocol.CodeUnavailable {
			e.found.note("unavailable: " + pe.Message)
			return
		}
		e.found.add(checkError, who, doc, "%v", err)
	}
}

// open (re)opens the document and announces the editor if it should.
func (ed *editor) open(ctx context.Context) error {
	ed.mu.Lock()
	defer ed.mu.Unlock()
	if ed.d != nil {
		return nil // a close that did not happen
	}
	d, err := ed.c.Open(ctx, ed.cfg.doc)
	if err != nil {
		return fmt.Errorf("editor %s: %w", ed.cfg.name, err)
	}
	ed.d = d
	if ed.cfg.presence {
		return d.SetPresence(ed.cfg.name, "#3f51b5", nil)
	}
	return nil
}

// closeDoc waits until its edits are acknowledged, then closes the
// document: with every participant closed, the server unloads it.
func (ed *editor) closeDoc(ctx context.Context) error {
	ed.mu.Lock()
	defer ed.mu.Unlock()
	if ed.d == nil {
		return nil
	}
	if err := ed.d.WaitSynced(ctx); err != nil {
		return fmt.Errorf("editor %s: %w", ed.cfg.name, err)
	}
	err := ed.d.Close()
	ed.d = nil
	return err
}

// doc returns the open document, nil while closed.
func (ed *editor) doc() *client.Doc {
	ed.mu.Lock()
	defer ed.mu.Unlock()
	return ed.d
}

// wait waits for the typing goroutine, after its context ended.
func (ed *editor) wait() { <-ed.done }

func (ed *editor) typeAway(ctx context.Context, rng *rand.Rand) {
	defer close(ed.done)
	span := int64(ed.cfg.typeMax - ed.cfg.typeMin)
	for sleepCtx(ctx, ed.cfg.typeMin+time.Duration(rng.Int64N(span+1))) {
		if !ed.typing.Load() {
			continue
		}
		ed.mu.Lock()
		if ed.d != nil {
			if err := ed.d.Edit(func(text string) document.Op { return randomEdit(rng, text) }); err != nil {
				ed.env.found.add(checkHarness, ed.cfg.name, ed.cfg.doc, "edit refused locally: %v", err)
			}
		}
		ed.mu.Unlock()
	}
}

// maxTextLen keeps documents around a few thousand code points: past it,
// two edits in three are deletes, so a ten-minute run does not grow a
// document without bound.
const maxTextLen = 3000

// pieces are what editors type: ASCII, a line break, and the code point
// cases of §2 (an emoji, one with a skin tone, a ZWJ family, a flag, a
// combining accent, CJK).
var pieces = []string{"a", "e", "t", " ", "the ", "\n", "😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "e\u0301", "中文", "ß"}

// randomEdit returns an insert of 1–3 pieces or a delete of 1–6 code
// points at a random position of text.
func randomEdit(rng *rand.Rand, text string) document.Op {
	n := utf8.RuneCountInString(text)
	if n > 0 && (rng.IntN(3) == 0 || n > maxTextLen && rng.IntN(3) != 0) {
		pos := rng.IntN(n)
		return document.FromPatch(pos, 1+rng.IntN(min(6, n-pos)), "")
	}
	var b strings.Builder
	for k := 1 + rng.IntN(3); k > 0; k-- {
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return document.FromPatch(rng.IntN(n+1), 0, b.String())
}
