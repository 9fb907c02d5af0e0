package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// cmLatencyJS instruments the CodeMirror example page as latencyJS and
// remoteJS do the editor's textarea, with an EditorView.updateListener
// (called at the end of view.update, once the view's state has the change
// and its DOM is updated) added by StateEffect.appendConfig. The modules
// are imported by the URLs the page's import map and codemirror-example.js
// resolve to, so they are the page's own instances (the `remote`
// annotation of codemirror.js must be the one its transactions carry).
//
//   - window.lat: for every key typed into the editor, from the keydown
//     event's timeStamp (time queued behind other work counts) to the
//     first task after the view was updated with the transaction that
//     typed it (userEvent "input.type").
//   - window.applied: for every remote op, from its WebSocket message
//     event's timeStamp to the end of the view.dispatch that wrote it into
//     the editor (the binding dispatches remote ops at once, in the task
//     that received them); window.next: to the first task after that;
//     window.painted: to the first task after the next animation frame
//     (CodeMirror updates its DOM in the dispatch; the browser lays it out
//     and paints it in the next frame, where CodeMirror also measures).
//   - window.maxChange: the largest change (replaced or inserted length)
//     of a remote transaction: remote ops must be written in place, not by
//     replacing the document (the binding's resync).
//   - window.loaf: long animation frames, as remoteJS.
const cmLatencyJS = `(async () => {
	const { StateEffect } = await import('/vendor/codemirror/state.js');
	const { EditorView } = await import('/vendor/codemirror/view.js');
	const { remote } = await import('/codemirror.js');
	const view = example.view;
	window.lat = []; window.applied = []; window.next = []; window.painted = [];
	window.maxChange = 0; window.remoteTrs = 0; window.loaf = [];
	let down = 0;
	view.contentDOM.addEventListener('keydown', (e) => { if (e.key.length === 1) down = e.timeStamp; }, true);
	let written = false;
	view.dispatch({ effects: StateEffect.appendConfig.of(EditorView.updateListener.of((u) => {
		if (!u.docChanged) return;
		for (const tr of u.transactions) {
			if (!tr.docChanged) continue;
			if (tr.annotation(remote)) {
				written = true;
				window.remoteTrs++;
				tr.changes.iterChanges((fa, ta, fb, tb) => { window.maxChange = Math.max(window.maxChange, ta - fa, tb - fb); });
			} else if (tr.isUserEvent('input.type') && down) {
				const t0 = down;
				down = 0;
				setTimeout(() => window.lat.push(performance.now() - t0), 0);
			}
		}
	})) });
	const pending = [];
	const ws = example.conn.socket._ws;
	const fn = ws.onmessage;
	const mine = '"id":"' + example.doc.session + ':';
	ws.onmessage = (ev) => {
		if (typeof ev.data === 'string' && ev.data.includes('"type":"op"') && !ev.data.includes(mine)) pending.push(ev.timeStamp);
		return fn(ev);
	};
	const dispatch = view.dispatch;
	view.dispatch = function (...a) {
		const r = dispatch.apply(this, a);
		if (written) {
			written = false;
			if (pending.length) {
				const now = performance.now();
				const ts = pending.splice(0);
				for (const t of ts) window.applied.push(now - t);
				setTimeout(() => { const p = performance.now(); for (const t of ts) window.next.push(p - t); }, 0);
				requestAnimationFrame(() => setTimeout(() => { const p = performance.now(); for (const t of ts) window.painted.push(p - t); }, 0));
			}
		}
		return r;
	};
	try {
		new PerformanceObserver((l) => { for (const e of l.getEntries()) window.loaf.push([e.duration, e.startTime + e.duration - e.styleAndLayoutStart]); })
			.observe({ type: 'long-animation-frame' });
	} catch { /* not supported */ }
})()`

// plainCodeMirrorJS reconfigures the example's editor with its
// extensions but markdown(): the example page's, less the Markdown
// parser. The binding's state fields are the same objects, so they keep
// their values; its view plugin is a new instance (the old one is
// destroyed), which finds the editor loaded and showing the document.
const plainCodeMirrorJS = `(async () => {
	const { StateEffect } = await import('/vendor/codemirror/state.js');
	const { EditorView } = await import('/vendor/codemirror/view.js');
	const { basicSetup } = await import('/vendor/codemirror/setup.js');
	const { collab } = await import('/codemirror.js');
	example.view.dispatch({ effects: StateEffect.reconfigure.of([basicSetup, EditorView.lineWrapping, collab(example.doc)]) });
})()`

// TestLongDocumentRemoteTypistsLatencyCodeMirror is
// TestLongDocumentRemoteTypistsLatency in the CodeMirror binding: a
// 100,000-character document, five WebSocket typists inserting a
// character anywhere every 200 ms each with their carets, and the page
// typing 100 keys 80 ms apart in the middle of the document. Every key
// must reach the editor and the server, every remote op must be written
// in place; key-to-screen and remote-edit-applied times are logged (p50,
// p95, max) for docs/benchmarks.md, never asserted (two shared cores).
//
// "example" is the package's example page as it is
// (static/examples/codemirror.html: basicSetup, markdown(), line
// wrapping); "plain" the same page without markdown(). The seed has no
// blank line, so to the Markdown parser it is one paragraph of 100,000
// characters, parsed again, inline, after every change.
func TestLongDocumentRemoteTypistsLatencyCodeMirror(t *testing.T) {
	t.Parallel()
	runAlone(t)
	t.Run("example", func(t *testing.T) { cmLongDocument(t, false) })
	t.Run("plain", func(t *testing.T) { cmLongDocument(t, true) })
}

func cmLongDocument(t *testing.T, plain bool) {
	srv := startServer(t)
	const n = 100_000
	srv.seed(t, "long", lorem(n))
	cm := openCodeMirror(t, srv, "long", "Cora")
	cm.waitFor(fmt.Sprintf(`example.view.state.doc.length === %d`, n), cmStateJS, 20*time.Second)
	name := "long-document-codemirror"
	if plain {
		eval[chromedp.Void](cm, plainCodeMirrorJS)
		name += "-plain"
	}
	// Markdown's language data (its comment tokens) is there in the
	// example only.
	if md := eval[bool](cm, `example.view.state.languageDataAt('commentTokens', 0).length > 0`); md == plain {
		t.Fatalf("Markdown language active: %v, want %v", md, !plain)
	}
	eval[chromedp.Void](cm, cmLatencyJS)
	cm.waitCMSaved()
	stopTypists := typists(t, srv, "long", 5, n, 200*time.Millisecond)
	time.Sleep(time.Second)
	// The caret in the middle of the document, scrolled to, as a user
	// typing there sees it.
	eval[chromedp.Void](cm, fmt.Sprintf(`(() => { example.view.focus();
		example.view.dispatch({selection: {anchor: %d}, scrollIntoView: true}); })()`, n/2))
	const typed = "the quick brown fox jumps over the lazy dog "
	keys := strings.Repeat(typed, 3)[:100]
	stopProfile := cm.profile(name)
	t.Logf("typing 100 keys took %v", cm.typeKeys(keys, 80*time.Millisecond).Round(time.Millisecond))
	stopProfile()
	lines := eval[int](cm, `example.view.contentDOM.querySelectorAll('.cm-line').length`)
	remote := stopTypists()
	// An unacknowledged op of a typist may still land: wait for the
	// server's text, then compare lengths.
	time.Sleep(500 * time.Millisecond)
	got := convergeCM(t, srv, "long", []*page{cm}, nil)
	if len(got) < n+len(keys)+remote || len(got) > n+len(keys)+remote+5 {
		t.Errorf("the document has %d characters, want %d (seed) + %d (typed) + %d (remote)", len(got), n, len(keys), remote)
	}
	cm.waitFor(`window.lat.length >= 100`, `JSON.stringify(window.lat.length)`, 20*time.Second)
	lat := eval[[]float64](cm, `window.lat`)
	k50, k95, kmax := percentiles(lat)
	applied := eval[[]float64](cm, `window.applied`)
	next := eval[[]float64](cm, `window.next`)
	painted := eval[[]float64](cm, `window.painted`)
	a50, a95, amax := percentiles(applied)
	x50, x95, xmax := percentiles(next)
	f50, f95, fmax := percentiles(painted)
	t.Logf("CodeMirror, 100,000-character document, %d remote ops meanwhile: key-to-screen p50 %.1f ms, p95 %.1f ms, max %.1f ms over %d keys",
		remote, k50, k95, kmax, len(lat))
	t.Logf("remote edit applied (frame arrived → dispatched): p50 %.1f ms, p95 %.1f ms, max %.1f ms over %d ops; to the next task: p50 %.1f ms, p95 %.1f ms, max %.1f ms; to the first task after the next frame: p50 %.1f ms, p95 %.1f ms, max %.1f ms",
		a50, a95, amax, len(applied), x50, x95, xmax, f50, f95, fmax)
	t.Logf("%d lines drawn of %d", lines, strings.Count(got, "\n")+1)
	if loaf := eval[[][2]float64](cm, `window.loaf`); len(loaf) > 0 {
		var d, l float64
		for _, f := range loaf {
			d += f[0]
			l += f[1]
		}
		t.Logf("%d frames over 50 ms, %.0f ms on average, of which style and layout %.0f ms", len(loaf), d/float64(len(loaf)), l/float64(len(loaf)))
	}
	if len(lat) != len(keys) {
		t.Errorf("%d keys seen reaching the editor, want %d", len(lat), len(keys))
	}
	if remote < 50 {
		t.Errorf("only %d remote ops arrived while typing; the typists did not type", remote)
	}
	if len(applied) < remote/2 {
		t.Errorf("only %d of %d remote ops were seen written", len(applied), remote)
	}
	if m := eval[int](cm, `window.maxChange`); m > 100 {
		t.Errorf("a remote transaction replaced or inserted %d characters; remote ops must be written in place", m)
	}
}
