package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	cdpage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/internal/faultnet"
	"github.com/collabedit/collab/internal/poll"
)

// editors opens doc on the server in two pages, each through its own
// proxy, with the display names given, and waits until both are saved.
func editors(t *testing.T, srv *server, doc string, names ...string) ([]*page, []*faultnet.Proxy) {
	t.Helper()
	var pages []*page
	var proxies []*faultnet.Proxy
	for _, name := range names {
		px := faultnet.Start(t, srv.addr)
		p := openPage(t, name, px.URL("/d/"+doc))
		p.waitSaved()
		p.setName(name)
		pages = append(pages, p)
		proxies = append(proxies, px)
	}
	return pages, proxies
}

// setName types name into the page's "Your name" field.
func (p *page) setName(name string) {
	p.t.Helper()
	eval[chromedp.Void](p, `(() => { const n = document.getElementById('name'); n.focus(); n.select(); })()`)
	p.keys(name)
}

// converge waits until every page shows the same text as the server, with
// nothing unsaved, and returns that text.
func converge(t *testing.T, srv *server, doc string, pages ...*page) string {
	t.Helper()
	for _, p := range pages {
		p.waitSaved()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var want string
	same := func() bool {
		want, _ = srv.text(t, doc)
		for _, p := range pages {
			p.waitSaved()
			if p.value() != want {
				return false
			}
		}
		return true
	}
	if !poll.Wait(ctx, same) {
		for _, p := range pages {
			t.Logf("%s: %q", p.name, p.value())
		}
		t.Fatalf("pages did not converge on the server's text %q", want)
	}
	return want
}

// TestConcurrentTypingConverges: two people type at once in one document,
// one at the start and one at the end, with emoji (astral, and a skin
// tone modifier) and a multi-line paste. Both pages and the server end
// with exactly both texts, each where it was typed: the carets were moved
// correctly through each other's edits (in code points, not UTF-16).
func TestConcurrentTypingConverges(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.seed(t, "shared", "middle\n")
	pages, proxies := editors(t, srv, "shared", "Ann", "Bob")
	ann, bob := pages[0], pages[1]
	bob.allowClipboard(proxies[1].URL(""))
	ann.caret(0)
	bob.caret(-1)

	together(t, map[*page]chromedp.Action[chromedp.Void]{
		ann: typing(step{keys: "Hello from Ann "}, step{insert: "😀"}, step{keys: " and more "}),
		bob: typing(step{keys: "Bob was here "}, step{insert: "🎉👍🏽"}, step{paste: "\npasted 📋 line one\nline two"}, step{keys: " end"}),
	})
	got := converge(t, srv, "shared", ann, bob)
	want := "Hello from Ann 😀 and more middle\nBob was here 🎉👍🏽\npasted 📋 line one\nline two end"
	if got != want {
		t.Fatalf("converged on\n%q\nwant\n%q", got, want)
	}
	// The carets are where their owners left them.
	if c := eval[int](ann, `document.getElementById('text').selectionStart`); c != utf16Len("Hello from Ann 😀 and more ") {
		t.Errorf("Ann's caret at %d, want right after her text (%d)", c, utf16Len("Hello from Ann 😀 and more "))
	}
	if c := eval[int](bob, `document.getElementById('text').selectionStart`); c != utf16Len(want) {
		t.Errorf("Bob's caret at %d, want the end (%d)", c, utf16Len(want))
	}
}

// utf16Len is the length of s in UTF-16 code units, the unit of a
// textarea's selection.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r > 0xffff {
			n++
		}
	}
	return n
}

// TestOfflineEditsConverge: one page loses its network, keeps taking
// edits (shown at once, status Offline, said once to a screen reader, the
// browser's real "Leave site?" on a reload), while the
// other keeps editing; when the network is back it reopens from its
// version, resends, and both converge with nothing lost or doubled. Then
// the connection is cut again in the middle of fast typing, so ops are in
// flight when it drops.
func TestOfflineEditsConverge(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.seed(t, "trip", "base text")
	pages, proxies := editors(t, srv, "trip", "Ann", "Bob")
	ann, bob := pages[0], pages[1]
	bobNet := proxies[1]

	// Typing while connected announces nothing (the live region would
	// otherwise say "Saving… Saved" on every key).
	bob.caret(-1)
	bob.do(typing(step{keys: "."}))
	converge(t, srv, "trip", ann, bob)
	if said := eval[string](bob, announceJS); said != "" {
		t.Errorf("typing announced %q", said)
	}

	bobNet.SetOffline(true)
	bob.waitFor(`document.getElementById('status').dataset.state === 'offline'`, stateJS, 5*time.Second)
	bob.waitFor(announceJS+`.startsWith('Offline')`, announceJS, 5*time.Second)
	// A long wait before the next attempt: nothing but the edits below
	// may update the status.
	eval[chromedp.Void](bob, `(() => { collab.conn._bo.attempt = 20; collab.conn.retryNow(); })()`)
	bob.waitFor(`collab.conn.state === 'waiting' && collab.conn.retryAt - Date.now() > 10000`, stateJS, 5*time.Second)
	bob.caret(0)
	bob.do(typing(step{keys: "offline "}, step{insert: "🙂"}, step{keys: "\nline "}))
	ann.caret(-1)
	ann.do(typing(step{keys: " online"}, step{insert: "🌍"}))
	if v := bob.value(); v != "offline 🙂\nline base text." {
		t.Fatalf("offline page shows %q; local edits must show at once", v)
	}
	status := eval[string](bob, `document.getElementById('status').textContent`)
	if !strings.Contains(status, "Offline") || !strings.Contains(status, "kept") {
		t.Errorf("offline status %q should say the edits are kept", status)
	}
	bob.leaveWarns()
	if server, _ := srv.text(t, "trip"); strings.Contains(server, "offline") {
		t.Fatalf("server has offline edits before the network is back: %q", server)
	}

	bobNet.SetOffline(false)
	eval[chromedp.Void](bob, `collab.conn.retryNow()`) // skip the long wait set above
	got := converge(t, srv, "trip", ann, bob)
	if want := "offline 🙂\nline base text. online🌍"; got != want {
		t.Fatalf("after reconnecting: %q, want %q", got, want)
	}
	bob.waitFor(announceJS+` === 'All edits saved.' || `+announceJS+` === 'Back online. All edits saved.'`, announceJS, 5*time.Second)
	eval[chromedp.Void](bob, `collab.conn._bo.reset()`) // undo the long wait set above
	if eval[bool](bob, `(() => { const e = new Event('beforeunload', {cancelable: true}); window.dispatchEvent(e); return e.defaultPrevented; })()`) {
		t.Error("leaving warns although everything is saved")
	}

	// A stalled network, then a cut. First the acks are lost: the server
	// applied Bob's op, he never heard; after the reconnect the op comes
	// back in the catch-up and counts as the ack. Then the ops are lost on
	// the way: after the reconnect the in-flight op is resent with its id.
	// Either way each letter lands exactly once.
	bob.caret(-1)
	want := got
	for _, tc := range []struct {
		hold  faultnet.Direction
		words string
		stat  string
	}{
		{faultnet.HoldDown, " acks-lost", "ownOps"},
		{faultnet.HoldUp, " ops-lost", "resends"},
	} {
		_, before := srv.text(t, "trip")
		bobNet.Hold(tc.hold)
		bob.do(typing(step{keys: tc.words}))
		want += tc.words
		if tc.hold == faultnet.HoldDown {
			waitVersion(t, srv, "trip", before+1) // the first op arrived; its ack is held
		} else {
			poll.Until(t, "Bob's op to reach the proxy and be held", func() bool { return bobNet.Holding(faultnet.HoldUp) })
			if _, v := srv.text(t, "trip"); v != before {
				t.Fatalf("held ops reached the server: version %d → %d", before, v)
			}
		}
		if st := eval[string](bob, `document.getElementById('status').dataset.state`); st != "saving" {
			t.Fatalf("status %q while ops are unacknowledged, want saving", st)
		}
		bobNet.SetOffline(true)
		bobNet.SetOffline(false)
		eval[chromedp.Void](bob, `collab.conn.retryNow()`) // skip the backoff wait
		got = converge(t, srv, "trip", ann, bob)
		if got != want {
			t.Fatalf("after %s: %q, want %q", tc.stat, got, want)
		}
		if n := eval[int](bob, `collab.client.stats.`+tc.stat); n < 1 {
			t.Errorf("stats.%s = %d: the path under test was not taken", tc.stat, n)
		}
	}
}

// leaveWarns reloads the page and checks that the browser asks first
// ("Leave site?"), then answers Stay: the page and its unsaved edits are
// still there.
func (p *page) leaveWarns() {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	before := p.value()
	ev, err := chromedp.Run(ctx, chromedp.WaitEvent(cdpage.JavascriptDialogOpening, nil,
		chromedp.Evaluate[chromedp.Void](`setTimeout(() => location.reload(), 0)`)))
	if err != nil {
		p.t.Fatalf("%s: leaving the page with unsaved edits does not warn: %v", p.name, err)
	}
	if ev.Type != cdpage.DialogTypeBeforeunload {
		p.t.Fatalf("%s: leaving opened a %s dialog, want beforeunload", p.name, ev.Type)
	}
	if _, err := chromedp.Call(ctx, cdpage.HandleJavaScriptDialog, cdpage.HandleJavaScriptDialogParams{Accept: false}); err != nil {
		p.t.Fatalf("%s: answer Stay: %v", p.name, err)
	}
	if after := p.value(); after != before {
		p.t.Fatalf("%s: after Stay the page shows %q, want %q", p.name, after, before)
	}
}

// announceJS is what the editor last said in its live region.
const announceJS = `document.getElementById('announce').textContent`

// waitVersion waits until the server has doc at version v or later.
func waitVersion(t *testing.T, srv *server, doc string, v int64) {
	t.Helper()
	poll.Until(t, fmt.Sprintf("%s to reach version %d", doc, v), func() bool { _, got := srv.text(t, doc); return got >= v })
}

// compose sets the page's IME composition text, as typing "nihon" with a
// Japanese input method shows に, にほ, にほん before anything is chosen.
func (p *page) compose(texts ...string) {
	p.t.Helper()
	p.call(func(ctx context.Context, t *chromedp.Target) error {
		for _, s := range texts {
			n := int64(utf16Len(s))
			if _, err := cdp.Call(ctx, t, input.ImeSetComposition, input.ImeSetCompositionParams{Text: s, SelectionStart: n, SelectionEnd: n}); err != nil {
				return err
			}
		}
		return nil
	})
}

// TestUndoCutAndIME: Ctrl+Z and Ctrl+Shift+Z undo and redo your own
// typing (never the other person's) and reach the server like any edit;
// cut removes text everywhere; text being composed with an IME is not sent
// until it is committed, while the other person's edits keep arriving,
// and the composer's caret is shown to others where the document has it.
func TestUndoCutAndIME(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.seed(t, "words", "start")
	pages, _ := editors(t, srv, "words", "Ann", "Bob")
	ann, bob := pages[0], pages[1]

	ann.caret(-1)
	ann.do(typing(step{keys: " one two"}))
	converge(t, srv, "words", ann, bob)
	bob.caret(0)
	bob.do(typing(step{keys: "B:"}))
	converge(t, srv, "words", ann, bob)

	ann.shortcut("z", modCtrl)
	if got := converge(t, srv, "words", ann, bob); got != "B:start" {
		t.Fatalf("after Ann's undo: %q, want Bob's edit kept and Ann's gone", got)
	}
	ann.shortcut("z", modCtrl|modShift)
	if got := converge(t, srv, "words", ann, bob); got != "B:start one two" {
		t.Fatalf("after redo: %q", got)
	}

	// Cut " one".
	from := utf16Len("B:start")
	eval[chromedp.Void](ann, `document.getElementById('text').setSelectionRange(`+strconv.Itoa(from)+`, `+strconv.Itoa(from+4)+`)`)
	ann.call(cut)
	if got := converge(t, srv, "words", ann, bob); got != "B:start two" {
		t.Fatalf("after cut: %q", got)
	}

	// Ann composes at the end while Bob types at the start.
	ann.caret(-1)
	ann.compose(" に", " にほ", " にほん")
	bob.caret(0)
	bob.do(typing(step{keys: "X"}))
	bob.waitSaved()
	if v := ann.value(); v != "B:start two にほん" {
		t.Fatalf("Ann's textarea during composition: %q (Bob's edit must wait, the composition must stay)", v)
	}
	if text, _ := srv.text(t, "words"); text != "XB:start two" {
		t.Fatalf("server during Ann's composition: %q; nothing of it may be sent", text)
	}
	ann.insert(" 日本") // commit
	if got := converge(t, srv, "words", ann, bob); got != "XB:start two 日本" {
		t.Fatalf("after the commit: %q", got)
	}
	if c := eval[int](ann, `document.getElementById('text').selectionStart`); c != utf16Len("XB:start two 日本") {
		t.Errorf("Ann's caret at %d after the commit, want the end", c)
	}

	// While Ann composes in the middle, Bob sees her caret where the
	// document has it (the composed text is not there yet), and after
	// the commit right after what she committed.
	ann.caret(utf16Len("XB:"))
	bob.waitFor(markJS("Ann")+` === "XB:"`, `JSON.stringify(`+markJS("Ann")+`)`, 5*time.Second)
	ann.compose("か", "かな")
	// Several presence intervals in which Bob's view must not move: a
	// window for something not to happen, not a wait for anything.
	time.Sleep(300 * time.Millisecond)
	if at := eval[string](bob, `JSON.stringify(`+markJS("Ann")+`)`); at != `"XB:"` {
		t.Errorf("during Ann's composition Bob draws her caret after %s, want after %q", at, "XB:")
	}
	ann.insert("仮名")
	bob.waitFor(markJS("Ann")+` === "XB:仮名"`, `JSON.stringify(`+markJS("Ann")+`)`, 5*time.Second)
}

// TestSnapshotRebase: a page that was away longer than the server replays
// (MaxCatchUp, 5 ops here) gets a snapshot instead of the missing ops. Its
// op that was in flight when it dropped (never delivered) and its offline
// edits are rebased onto the snapshot, not dropped (protocol §7.4).
func TestSnapshotRebase(t *testing.T) {
	t.Parallel()
	srv := startServerWith(t, hub.Config{MaxCatchUp: 5})
	srv.seed(t, "far", "0123456789")
	pages, proxies := editors(t, srv, "far", "Ann", "Bob")
	ann, bob := pages[0], pages[1]
	bobNet := proxies[1]

	bob.caret(-1)
	bobNet.Hold(faultnet.HoldUp) // the first op leaves, and never arrives
	bob.do(typing(step{keys: " bob"}))
	bobNet.SetOffline(true)
	bob.caret(0)
	bob.do(typing(step{keys: "B>"}))

	_, from := srv.text(t, "far")
	ann.caret(5)
	// Six pieces, each saved before the next: at least six ops however
	// slow the round trip (typed at once, a slow machine packs the keys
	// into fewer ops than MaxCatchUp).
	for _, w := range []string{"ann-", "typed-", "while-", "bob-", "was-", "away"} {
		ann.do(typing(step{keys: w}))
		ann.waitSaved()
	}
	if _, to := srv.text(t, "far"); to-from <= 5 {
		t.Fatalf("Ann made only %d ops; the test needs more than MaxCatchUp", to-from)
	}

	bobNet.SetOffline(false)
	eval[chromedp.Void](bob, `collab.conn.retryNow()`)
	got := converge(t, srv, "far", ann, bob)
	if want := "B>01234ann-typed-while-bob-was-away56789 bob"; got != want {
		t.Fatalf("after the snapshot: %q, want %q", got, want)
	}
	if n := eval[int](bob, `collab.client.stats.probes`); n < 1 {
		t.Errorf("stats.probes = %d: the in-flight op was not probed", n)
	}
}
