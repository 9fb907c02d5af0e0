package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/internal/testenv"
	"github.com/collabedit/collab/servertest"
)

// The one browser of the package, started by the first test that needs it
// and stopped by TestMain.
var shared struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	dir    string
	err    error
}

func TestMain(m *testing.M) {
	code := servertest.Run(m) // the server binary of the access tests, removed after
	if shared.cancel != nil {
		shared.cancel()
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// chromiumPath finds the browser: $CHROMIUM, else the usual names on PATH.
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// needBrowser returns the shared browser's context, starting it once. A
// missing browser skips the test, except under CI, where it fails it
// (testenv.Missing).
func needBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		testenv.Missing(t, "chromium", "install Debian's chromium (./scripts/test.sh does when it is missing) or set $CHROMIUM to a Chromium or Chrome binary")
	}
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "collab-e2e-chromium-")
		if shared.err != nil {
			return
		}
		// The machine may have no internet: without these flags Chromium
		// spends its start-up failing to reach Google's services.
		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(path),
			chromedp.UserDataDir(shared.dir),
			chromedp.Flag("headless", true),
			chromedp.Flag("no-sandbox", true), // tests run as root in CI containers
			chromedp.Flag("disable-gpu", true),
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("no-first-run", true),
			chromedp.Flag("no-default-browser-check", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-extensions", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			// Two pages edit at once: neither may be throttled as a
			// background tab.
			chromedp.Flag("disable-background-timer-throttling", true),
			chromedp.Flag("disable-backgrounding-occluded-windows", true),
			chromedp.Flag("disable-renderer-backgrounding", true),
			chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
			chromedp.WindowSize(1000, 700),
		}
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(alloc)
		shared.ctx = ctx
		shared.cancel = func() {
			cancelCtx()
			cancelAlloc()
		}
		// The first Do launches the browser, bound to the context it is
		// given: ctx itself, not a shorter-lived child.
		shared.err = chromedp.Do(ctx)
	})
	if shared.err != nil {
		t.Fatalf("start chromium %s: %v", path, shared.err)
	}
	return shared.ctx
}

// page is one browser tab, in a window of its own (chromedp's default for
// a new context) so that it is never a hidden background tab, showing a
// page of the server.
type page struct {
	t    *testing.T
	name string
	ctx  context.Context
}

// openPage opens url in a new window of the shared browser.
func openPage(t *testing.T, name, url string) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(needBrowser(t))
	t.Cleanup(cancel)
	// The first Do opens the tab and binds its life to the context given:
	// p.ctx itself, not one of the short-lived children do makes.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("%s: open a tab: %v", name, err)
	}
	p := &page{t: t, name: name, ctx: ctx}
	p.watchExceptions()
	p.do(chromedp.EmulateViewport(640, 420), chromedp.Navigate(url))
	return p
}

// watchExceptions fails the test, when it ends, if the page threw an
// uncaught exception or left a promise rejection unhandled: a page can
// look right and still be broken.
func (p *page) watchExceptions() {
	var mu sync.Mutex
	var seen []string
	msgs := chromedp.Console(p.ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return // the tab is gone
			}
			if m.IsException() {
				mu.Lock()
				seen = append(seen, fmt.Sprintf("%s:%d %s", m.URL, m.Line+1, m))
				mu.Unlock()
			}
		}
	}()
	p.t.Cleanup(func() { // runs before the tab is closed (cleanups run last first)
		mu.Lock()
		defer mu.Unlock()
		for _, e := range seen {
			p.t.Errorf("%s: uncaught exception: %s", p.name, e)
		}
	})
}

// viewport resizes the page's viewport (CSS pixels); mobile also
// emulates a phone (touch, mobile viewport rules).
func (p *page) viewport(w, h int64, mobile bool) {
	p.t.Helper()
	if mobile {
		p.do(chromedp.EmulateViewport(w, h, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
		return
	}
	p.do(chromedp.EmulateViewport(w, h))
}

// do runs actions on the page, failing the test on error or after 20 s.
func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) and decodes
// its value into T.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: evaluate %s: %v", p.name, expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it is true, or fails after
// timeout, reporting what describe evaluates to then.
func (p *page) waitFor(cond, describe string, timeout time.Duration) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if !poll.Wait(ctx, func() bool { return eval[bool](p, fmt.Sprintf("Boolean(%s)", cond)) }) {
		p.t.Fatalf("%s: timed out after %v waiting for %s; %s", p.name, timeout, cond, eval[string](p, describe))
	}
}

// stateJS describes the editor for failure messages.
const stateJS = `JSON.stringify({status: document.getElementById('status').dataset.state,
	text: document.getElementById('text').value, version: collab.client.version,
	pending: collab.client.pending, conn: collab.conn.state})`

// waitSaved waits until the editor has the document and nothing unsaved.
func (p *page) waitSaved() {
	p.t.Helper()
	p.waitFor(`window.collab && document.getElementById('status').dataset.state === 'saved'`, stateJS, 15*time.Second)
}

// value is the textarea's text.
func (p *page) value() string {
	p.t.Helper()
	return eval[string](p, `document.getElementById('text').value`)
}

// caret focuses the textarea and puts the caret at UTF-16 index i (-1:
// the end).
func (p *page) caret(i int) {
	p.t.Helper()
	eval[chromedp.Void](p, fmt.Sprintf(`(() => { const t = document.getElementById('text'); t.focus();
		const i = %d < 0 ? t.value.length : %d; t.setSelectionRange(i, i); })()`, i, i))
}

// keys types s key by key, as a keyboard does (ASCII; "\n" is Enter).
func (p *page) keys(s string) {
	p.t.Helper()
	p.do(chromedp.KeyEvent(s))
}

// insert inserts s as an input method or emoji keyboard commits text.
func (p *page) insert(s string) {
	p.t.Helper()
	p.call(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, input.InsertText, input.InsertTextParams{Text: s})
		return err
	})
}

// call runs a function with the page's DevTools session.
func (p *page) call(f func(ctx context.Context, t *chromedp.Target) error) {
	p.t.Helper()
	p.do(chromedp.Func(f))
}

// shortcut presses a letter key with modifiers (modCtrl, modShift).
func (p *page) shortcut(letter string, modifiers int64) {
	p.t.Helper()
	p.call(func(ctx context.Context, t *chromedp.Target) error {
		return pressKey(ctx, t, letter, modifiers)
	})
}

// artifactPath is where a test writes a file for people to look at.
func artifactPath(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("ARTIFACT_DIR")
	if dir == "" {
		_, file, _, _ := goruntime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "artifacts", "e2e")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name)
}

// step is one piece of simulated user input.
type step struct {
	keys   string // typed key by key (ASCII and "\n")
	insert string // committed at once, as an emoji keyboard or IME does
	paste  string // put on the clipboard and pasted with Ctrl+V
}

// typing returns an action that performs steps with a pause between keys,
// so that two pages typing at once really interleave their ops.
func typing(steps ...step) chromedp.Action[chromedp.Void] {
	const pause = 15 * time.Millisecond
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, s := range steps {
			for _, r := range s.keys {
				if _, err := chromedp.KeyEvent(string(r))(ctx, t); err != nil {
					return err
				}
				time.Sleep(pause) // a typist's pace, not a wait
			}
			if s.insert != "" {
				if _, err := cdp.Call(ctx, t, input.InsertText, input.InsertTextParams{Text: s.insert}); err != nil {
					return err
				}
				time.Sleep(pause) // a typist's pace, not a wait
			}
			if s.paste != "" {
				if err := paste(ctx, t, s.paste); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// heavy is held for their whole run by the tests that load long documents
// (100,000 characters and more) or paste large texts: two of them at once,
// beside the other tests under -race on two cores, starved a page for
// over 20 s (a 1,000,000-character document did not open in time in a CI
// run). One at a time they also measure what they log with less noise.
var heavy sync.Mutex

// runAlone makes t wait for the other heavy tests, after t.Parallel.
func runAlone(t *testing.T) {
	heavy.Lock()
	t.Cleanup(heavy.Unlock)
}

// clipboard is held by whatever uses the browser's one clipboard, so that
// tests running in parallel do not paste each other's text.
var clipboard sync.Mutex

// paste puts text on the clipboard and sends Ctrl+V with the "paste"
// editing command, which is what the key does in a desktop Chromium.
func paste(ctx context.Context, t *chromedp.Target, text string) error {
	clipboard.Lock()
	defer clipboard.Unlock()
	js, _ := json.Marshal(text)
	if _, err := chromedp.Evaluate[chromedp.Void](`navigator.clipboard.writeText(`+string(js)+`)`, chromedp.EvalAwaitPromise)(ctx, t); err != nil {
		return fmt.Errorf("write clipboard: %w", err)
	}
	return pressKey(ctx, t, "v", modCtrl, "paste")
}

// cut sends Ctrl+X with the "cut" editing command.
func cut(ctx context.Context, t *chromedp.Target) error {
	clipboard.Lock()
	defer clipboard.Unlock()
	return pressKey(ctx, t, "x", modCtrl, "cut")
}

// Modifier bits of input.DispatchKeyEvent.
const (
	modCtrl  = 2
	modShift = 8
)

// pressKey presses a letter key with modifiers and editing commands.
func pressKey(ctx context.Context, t *chromedp.Target, letter string, modifiers int64, commands ...string) error {
	up := strings.ToUpper(letter)
	base := input.DispatchKeyEventParams{Key: letter, Code: "Key" + up, WindowsVirtualKeyCode: int64(up[0]),
		NativeVirtualKeyCode: int64(up[0]), Modifiers: modifiers}
	down := base
	down.Type = input.DispatchKeyEventTypeRawKeyDown
	down.Commands = commands
	if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, down); err != nil {
		return err
	}
	release := base
	release.Type = input.DispatchKeyEventTypeKeyUp
	_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, release)
	return err
}

// allowClipboard lets the page's origin write the clipboard without a
// user gesture (tests paste what they put there).
func (p *page) allowClipboard(origin string) {
	p.t.Helper()
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		_, err := chromedp.CallBrowser(p.ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name, AllowWithoutSanitization: true},
			Setting:    browser.PermissionSettingGranted,
			Origin:     origin,
		})
		if err != nil {
			p.t.Fatalf("%s: grant %s: %v", p.name, name, err)
		}
	}
}

// together runs one action on each page at the same time and fails the
// test if any failed.
func together(t *testing.T, work map[*page]chromedp.Action[chromedp.Void]) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(work))
	for p, a := range work {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
			defer cancel()
			if err := chromedp.Do(ctx, a); err != nil {
				errs <- fmt.Errorf("%s: %w", p.name, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
}
