package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/profiler"
	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/collabedit/collab/hub"
)

// alertJS is the text of the editor's alert line.
const alertJS = `document.getElementById('alert').textContent`

// pasteInto puts the caret at UTF-16 index at and pastes text there.
func (p *page) pasteInto(origin string, at int, text string) {
	p.t.Helper()
	p.allowClipboard(origin)
	p.caret(at)
	p.call(func(ctx context.Context, t *chromedp.Target) error { return paste(ctx, t, text) })
}

// afterRefusedPaste checks what a refused paste must leave: the text
// without it, an alert saying so, typing afterwards saved, seen by the
// other page and by a reload, and the status ending "Saved".
func afterRefusedPaste(t *testing.T, srv *server, doc string, ann, bob *page, alert string) {
	t.Helper()
	ann.waitFor(alertJS+` !== ''`, stateJS, 20*time.Second)
	if got := eval[string](ann, alertJS); !strings.Contains(got, alert) {
		t.Errorf("alert %q should contain %q", got, alert)
	}
	ann.waitFor(`document.getElementById('text').value === 'start end'`, stateJS, 20*time.Second)
	if c := eval[int](ann, `document.getElementById('text').selectionStart`); c != 6 {
		t.Errorf("caret at %d after the paste was taken off, want 6 (where it was pasted)", c)
	}
	ann.keys("typed ")
	want := "start typed end"
	if got := converge(t, srv, doc, ann, bob); got != want {
		t.Fatalf("converged on %q, want %q", got, want)
	}
	if s := eval[string](ann, `document.getElementById('status').dataset.state`); s != "saved" {
		t.Errorf("status %q, want saved", s)
	}
	// Nothing was left in a buffer that a reload throws away.
	ann.do(chromedp.Reload())
	ann.waitSaved()
	if v := ann.value(); v != want {
		t.Errorf("after a reload the page shows %q, want %q", v, want)
	}
}

// TestPasteOverDocLimitRefused: a 1.5 MB paste into a document whose
// limit is 1,000,000 characters (announced by the server, §17) is refused
// before it is sent: the paste is taken off the page, the user is told
// once, and what is typed afterwards is saved as usual.
func TestPasteOverDocLimitRefused(t *testing.T) {
	t.Parallel()
	srv := startServerWith(t, hub.Config{MaxDocLen: 1_000_000})
	srv.seed(t, "huge", "start end")
	pages, proxies := editors(t, srv, "huge", "Ann", "Bob")
	ann, bob := pages[0], pages[1]
	if n := eval[int](ann, `collab.client.limits.maxDocLen`); n != 1_000_000 {
		t.Fatalf("the page believes the limit is %d characters, want the server's 1,000,000", n)
	}
	ann.pasteInto(proxies[0].URL(""), 6, strings.Repeat("pasted line\n", 1_500_000/12))
	afterRefusedPaste(t, srv, "huge", ann, bob, "more than the 1,000,000 the server allows")
	if n := eval[int](ann, `collab.client.stats.resyncs`); n != 0 {
		t.Errorf("%d resyncs; a paste refused up front costs none", n)
	}
}

// TestPasteOverInsertLimitRefused: a 5 MB paste is over the insert limit
// (2 MiB by default): refused in the page, never sent.
func TestPasteOverInsertLimitRefused(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.seed(t, "five", "start end")
	pages, proxies := editors(t, srv, "five", "Ann", "Bob")
	ann, bob := pages[0], pages[1]
	ann.pasteInto(proxies[0].URL(""), 6, strings.Repeat("x", 5<<20))
	afterRefusedPaste(t, srv, "five", ann, bob, "more than the 2.0 MB the server takes in one go")
}

// TestPasteRefusedByServerRolledBack: the server's frame limit is smaller
// than the page believes (as for a client that does not ask for the
// limits), so the paste goes out and the server refuses it (too_large,
// without an id). The page undoes it on screen, and typing afterwards is
// saved.
func TestPasteRefusedByServerRolledBack(t *testing.T) {
	t.Parallel()
	srv := startServerWith(t, hub.Config{MaxMessageBytes: 256 << 10})
	srv.seed(t, "small", "start end")
	pages, proxies := editors(t, srv, "small", "Ann", "Bob")
	ann, bob := pages[0], pages[1]
	eval[chromedp.Void](ann, `(() => { collab.client.limits.maxMessageBytes = 4 << 20; })()`)
	ann.pasteInto(proxies[0].URL(""), 6, strings.Repeat("y", 600<<10))
	afterRefusedPaste(t, srv, "small", ann, bob, "larger than the server allows")
}

// TestLargePasteSaved: a paste within the limits but over one frame
// (1.5 MB) is saved and seen by the other page (200 KB: TestPaste200KBSeen). The time from the paste to the other page showing it is
// logged (docs/benchmarks.md).
func TestLargePasteSaved(t *testing.T) {
	t.Parallel()
	runAlone(t)
	srv := startServer(t)
	srv.seed(t, "paste", "start end")
	pages, proxies := editors(t, srv, "paste", "Ann", "Bob")
	ann, bob := pages[0], pages[1]
	text := "start end"
	for _, size := range []int{1500 << 10} {
		chunk := strings.Repeat(fmt.Sprintf("%d bytes pasted ", size), size/20+1)[:size]
		begin := time.Now()
		ann.pasteInto(proxies[0].URL(""), 6, chunk)
		text = text[:6] + chunk + text[6:]
		ann.waitFor(fmt.Sprintf(`document.getElementById('text').value.length === %d`, len(text)), stateJS, 60*time.Second)
		shown := time.Since(begin)
		bob.waitFor(fmt.Sprintf(`document.getElementById('text').value.length === %d`, len(text)), stateJS, 60*time.Second)
		seen := time.Since(begin)
		ann.waitSaved()
		t.Logf("paste of %d KB: on the page after %v, seen by the other page after %v, saved after %v", size>>10,
			shown.Round(time.Millisecond), seen.Round(time.Millisecond), time.Since(begin).Round(time.Millisecond))
		if got := converge(t, srv, "paste", ann, bob); got != text {
			t.Fatalf("after the %d KB paste the text is %d bytes, want %d", size>>10, len(got), len(text))
		}
	}
	if a := eval[string](ann, alertJS); a != "" {
		t.Errorf("alert %q after pastes within the limits", a)
	}
}

// typist is a WebSocket client typing into doc: one character at a
// random place every pause, one op in flight at a time, and its caret
// (presence) after each. It returns how
// many of its ops were acknowledged.
func typist(t *testing.T, srv *server, doc string, name string, stop <-chan struct{}, seedLen int, pause time.Duration) (acked int) {
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+srv.addr+"/ws", nil)
	if err != nil {
		t.Errorf("%s: dial: %v", name, err)
		return
	}
	defer ws.Close()
	if err := ws.WriteJSON(map[string]any{"type": "open", "doc": doc, "presence": true}); err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	rng := rand.New(rand.NewSource(int64(len(name)) + int64(name[len(name)-1])))
	var version int64 = -1
	seq := 0
	caret := 0
	inflight := false
	_ = ws.SetReadDeadline(time.Now().Add(2 * time.Minute))
	tick := time.NewTicker(pause)
	defer tick.Stop()
	msgs := make(chan map[string]any, 64)
	go func() {
		defer close(msgs)
		for {
			var m map[string]any
			if err := ws.ReadJSON(&m); err != nil {
				return
			}
			msgs <- m
		}
	}()
	for {
		select {
		case <-stop:
			return
		case m, ok := <-msgs:
			if !ok {
				return
			}
			switch m["type"] {
			case "snapshot":
				version = int64(m["version"].(float64))
			case "ack":
				version = int64(m["version"].(float64)) + 1
				inflight = false
				acked++
				// Its caret after what it typed, as an editor shows it
				// (the page draws it over its text).
				if err := ws.WriteJSON(map[string]any{"type": "presence", "doc": doc, "session": name, "version": version,
					"name": name, "color": "#1f6feb", "selection": map[string]any{"anchor": caret, "head": caret}}); err != nil {
					return
				}
			case "op":
				version = int64(m["version"].(float64)) + 1
			case "error":
				t.Errorf("%s: error %v", name, m)
				return
			}
		case <-tick.C:
			if version < 0 || inflight {
				continue
			}
			seq++
			at := rng.Intn(seedLen)
			caret = at + 1
			op := []any{at, string(rune('a' + rng.Intn(26)))}
			if err := ws.WriteJSON(map[string]any{"type": "op", "doc": doc, "version": version, "id": fmt.Sprintf("%s:%d", name, seq), "op": op}); err != nil {
				return
			}
			inflight = true
		}
	}
}

// typists starts k typists (typist) on doc, inserting anywhere in its
// first seedLen code points every pause, and returns the function that
// stops them and returns how many of their ops were acknowledged.
func typists(t *testing.T, srv *server, doc string, k, seedLen int, pause time.Duration) (stop func() int) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var acked atomic.Int64
	for i := range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acked.Add(int64(typist(t, srv, doc, fmt.Sprintf("typist-%d", i), done, seedLen, pause)))
		}()
	}
	return func() int {
		close(done)
		wg.Wait()
		return int(acked.Load())
	}
}

// typeKeys types keys into the focused element of p, one key every pause
// (a typist's pace), and returns how long it took.
func (p *page) typeKeys(keys string, pause time.Duration) time.Duration {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Minute)
	defer cancel()
	begin := time.Now()
	for _, r := range keys {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(string(r))); err != nil {
			p.t.Fatalf("type: %v", err)
		}
		time.Sleep(pause) // a typist's pace
	}
	return time.Since(begin)
}

// latencyJS records, for every key typed into the textarea, the time from
// the key event (its timeStamp, so time queued behind other work counts)
// to the first task after its input was handled.
const latencyJS = `(() => {
	const ta = document.getElementById('text');
	window.lat = [];
	let down = 0;
	ta.addEventListener('keydown', (e) => { down = e.timeStamp; });
	ta.addEventListener('input', () => {
		const t0 = down;
		// A frame of a background tab may never come: the next task after
		// the input stands for it (the textarea is updated by then).
		setTimeout(() => window.lat.push(performance.now() - t0), 0);
	});
})()`

// remoteJS records, for every remote op, the time from its frame
// arriving in the page (the WebSocket message event's timeStamp, so time
// queued behind other work counts) to the end of the task that wrote it
// into the textarea (window.applied), and to the first task after that
// (window.painted: the page writes remote ops in an animation frame's
// callback, so that is after the frame that lays them out and paints).
const remoteJS = `(() => {
	window.applied = []; window.painted = [];
	const pending = [];
	const ws = collab.conn._ws;
	const fn = ws.onmessage;
	ws.onmessage = (ev) => {
		if (typeof ev.data === 'string' && ev.data.includes('"type":"op"') && !ev.data.includes('"id":"' + collab.client.clientId)) pending.push(ev.timeStamp);
		return fn(ev);
	};
	// Long animation frames (over 50 ms): how much of them was the
	// browser's style and layout.
	window.loaf = [];
	try {
		new PerformanceObserver((l) => { for (const e of l.getEntries()) window.loaf.push([e.duration, e.startTime + e.duration - e.styleAndLayoutStart]); })
			.observe({ type: 'long-animation-frame' });
	} catch { /* not supported */ }
	const b = collab.binding;
	const done = () => {
		if (b._lag !== null || pending.length === 0) return;
		const now = performance.now();
		const ts = pending.splice(0);
		for (const t of ts) window.applied.push(now - t);
		setTimeout(() => { const p = performance.now(); for (const t of ts) window.painted.push(p - t); }, 0); // after the frame it was written in
	};
	for (const name of ['_catchUp', '_render']) {
		const orig = b[name].bind(b);
		b[name] = (...a) => { const r = orig(...a); done(); return r; };
	}
})()`

// profile starts the page's JavaScript CPU profiler when $E2E_PROFILE
// names a directory, and returns the function that stops it and writes
// the profile there as name.cpuprofile (open it in Chromium's DevTools,
// or summarise it with scripts/cpuprofile.mjs). Otherwise it does nothing.
func (p *page) profile(name string) func() {
	p.t.Helper()
	dir := os.Getenv("E2E_PROFILE")
	if dir == "" {
		return func() {}
	}
	p.call(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, profiler.Enable, cdp.Empty{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, t, profiler.SetSamplingInterval, profiler.SetSamplingIntervalParams{Interval: 200}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, profiler.Start, cdp.Empty{})
		return err
	})
	return func() {
		p.call(func(ctx context.Context, t *chromedp.Target) error {
			res, err := cdp.Call(ctx, t, profiler.Stop, cdp.Empty{})
			if err != nil {
				return err
			}
			b, err := json.Marshal(res.Profile)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, name+".cpuprofile"), b, 0o644)
		})
	}
}

// percentiles returns p50, p95 and max of xs (sorted in place).
func percentiles(xs []float64) (p50, p95, max float64) {
	if len(xs) == 0 {
		return 0, 0, 0
	}
	sort.Float64s(xs)
	p := func(q float64) float64 { return xs[int(q*float64(len(xs)-1))] }
	return p(0.5), p(0.95), xs[len(xs)-1]
}

// TestLongDocumentRemoteTypistsLatency: a 100,000-character document,
// five other editors typing 5 characters a second each anywhere in it,
// and a page typing 100 keys at a typist's pace. Every key must reach the
// screen and the server; the key-to-screen times and the time from a
// remote op's frame arriving to the textarea showing it are logged (p50,
// p95, max) for docs/benchmarks.md, and the remote ops must have been
// written in place, not by rewriting the textarea: that check, not a
// time bound, catches a regression to a rewrite per remote op (which took
// over 10 s). The times are figures for docs/benchmarks.md, not
// assertions: beside the other browser tests on two shared cores under
// -race, the p95 ranged from 0.1 to over 3 s in the same code.
func TestLongDocumentRemoteTypistsLatency(t *testing.T) {
	t.Parallel()
	runAlone(t)
	srv := startServer(t)
	const n = 100_000
	srv.seed(t, "long", lorem(n))
	ann := openPage(t, "Ann", "http://"+srv.addr+"/d/long")
	ann.waitSaved()
	ann.waitFor(fmt.Sprintf(`document.getElementById('text').value.length === %d`, n), stateJS, 10*time.Second)
	eval[chromedp.Void](ann, latencyJS)
	eval[chromedp.Void](ann, remoteJS)
	ann.waitSaved()
	// Count whole rewrites: every remote op must go through setRangeText
	// with a replacement the size of the op.
	eval[chromedp.Void](ann, `(() => { const ta = document.getElementById('text'); const orig = ta.setRangeText.bind(ta);
		window.maxRange = 0; ta.setRangeText = (r, s, e, m) => { const k = Math.max(r.length, e - s); if (k > window.maxRange) { window.maxRange = k; window.bigStack = new Error().stack + " " + JSON.stringify([r.length, s, e]); } return orig(r, s, e, m); }; })()`)
	stopTypists := typists(t, srv, "long", 5, n, 200*time.Millisecond)
	time.Sleep(time.Second)
	ann.caret(n / 2)
	const typed = "the quick brown fox jumps over the lazy dog "
	keys := strings.Repeat(typed, 3)[:100]
	stopProfile := ann.profile("long-document")
	t.Logf("typing 100 keys took %v", ann.typeKeys(keys, 80*time.Millisecond).Round(time.Millisecond))
	stopProfile()
	remote := stopTypists()
	// An unacknowledged op of a typist may still land: wait for the
	// server's text, then compare lengths.
	time.Sleep(500 * time.Millisecond)
	got := converge(t, srv, "long", ann)
	if len(got) < n+len(keys)+remote || len(got) > n+len(keys)+remote+5 {
		t.Errorf("the document has %d characters, want %d (seed) + %d (typed) + %d (remote)", len(got), n, len(keys), remote)
	}
	ann.waitFor(`window.lat.length >= 100`, `JSON.stringify(window.lat.length)`, 10*time.Second)
	lat := eval[[]float64](ann, `window.lat`)
	k50, k95, kmax := percentiles(lat)
	applied := eval[[]float64](ann, `window.applied`)
	painted := eval[[]float64](ann, `window.painted`)
	a50, a95, amax := percentiles(applied)
	f50, f95, fmax := percentiles(painted)
	t.Logf("100,000-character document, %d remote ops meanwhile: key-to-screen p50 %.1f ms, p95 %.1f ms, max %.1f ms over %d keys",
		remote, k50, k95, kmax, len(lat))
	t.Logf("remote edit applied (frame arrived → written): p50 %.1f ms, p95 %.1f ms, max %.1f ms over %d ops; to the next frame: p50 %.1f ms, p95 %.1f ms, max %.1f ms",
		a50, a95, amax, len(applied), f50, f95, fmax)
	if loaf := eval[[][2]float64](ann, `window.loaf`); len(loaf) > 0 {
		var d, l float64
		for _, f := range loaf {
			d += f[0]
			l += f[1]
		}
		t.Logf("%d frames over 50 ms, %.0f ms on average, of which style and layout %.0f ms", len(loaf), d/float64(len(loaf)), l/float64(len(loaf)))
	}
	if remote < 50 {
		t.Errorf("only %d remote ops arrived while typing; the typists did not type", remote)
	}
	if len(applied) < remote/2 {
		t.Errorf("only %d of %d remote ops were seen written", len(applied), remote)
	}
	if m := eval[int](ann, `window.maxRange`); m > 100 {
		t.Errorf("a remote op replaced %d characters of the textarea; remote ops must be written in place: %s", m, eval[string](ann, `window.bigStack`))
	}
}

// lorem is n characters of short lines of Latin words.
func lorem(n int) string {
	line := strings.Repeat("lorem ipsum dolor sit amet ", 3) + "\n"
	return strings.Repeat(line, n/len(line)+1)[:n]
}
