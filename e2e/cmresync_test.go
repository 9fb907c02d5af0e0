package e2e

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/collabedit/collab/internal/faultnet"
)

// TestCodeMirrorListenerEditsInChangeEvent: an app's listener that edits
// the document from inside the change event of a typed edit (here one
// that completes a typed "=" to "=>" at once) leaves the editor in step:
// the binding sees that the document's text is not the one its edit made,
// shows the listener's edit as soon as CodeMirror takes a dispatch, and
// typing carries on after it.
func TestCodeMirrorListenerEditsInChangeEvent(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.seed(t, "cm-arrow", "f")
	cm := openCodeMirror(t, srv, "cm-arrow", "Cora")
	eval[chromedp.Void](cm, `(() => {
		window.changes = [];
		example.doc.on('change', (ev) => {
			window.changes.push(ev.text);
			if (ev.origin !== 'arrow' && ev.text.endsWith('=')) example.doc.edit([[...ev.text].length, '>'], { origin: 'arrow' });
		});
		example.view.focus();
		example.view.dispatch({ selection: { anchor: example.view.state.doc.length } });
	})()`)
	cm.typeKeys("=", 0)
	cm.waitFor(`example.view.state.doc.toString() === 'f=>' && example.doc.text === 'f=>'`, `JSON.stringify(window.changes) + `+cmStateJS, 10*time.Second)
	// The caret was pushed past the listener's insert, as past anyone's.
	cm.typeKeys("x", 0)
	if got := convergeCM(t, srv, "cm-arrow", []*page{cm}, nil); got != "f=>x" {
		t.Fatalf("converged on %q, want %q", got, "f=>x")
	}
}

// TestCodeMirrorOutOfStepResyncs: an editor that has come to show text
// the document does not have (forced here by a change dispatched as a
// remote one, which the binding takes as already in the document) is
// brought back to the document's text by the next remote change that
// does not fit — here in a catch-up after a reconnection, rebased over
// what was typed offline — and only once for the catch-up; nothing typed
// is lost and nothing stray is sent.
func TestCodeMirrorOutOfStepResyncs(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.seed(t, "cm-step", "seed text")
	net := faultnet.Start(t, srv.addr)
	cm := openPage(t, "Cora", net.URL("/examples/codemirror.html?doc=cm-step&name=Cora"))
	cm.waitCMSaved()
	net.SetOffline(true)
	cm.waitFor(`example.conn.state !== 'open'`, cmStateJS, 10*time.Second)
	eval[chromedp.Void](cm, `(() => {
		example.view.focus();
		example.view.dispatch({ selection: { anchor: 4 } });
	})()`)
	cm.typeKeys(" more", 30*time.Millisecond) // offline: kept, sent on reconnection
	cm.waitFor(`example.doc.text === 'seed more text' && example.doc.pending`, cmStateJS, 5*time.Second)
	eval[chromedp.Void](cm, `(async () => {
		const { remote } = await import('/codemirror.js');
		example.view.dispatch({ changes: { from: 0, insert: 'stray ' }, annotations: remote.of(true) });
		window.changing = 0; // dispatches that change the editor's text
		const dispatch = example.view.dispatch.bind(example.view);
		example.view.dispatch = (...a) => { if (a[0] && a[0].changes) window.changing++; return dispatch(...a); };
	})()`)
	cm.waitFor(`example.view.state.doc.toString() === 'stray seed more text'`, cmStateJS, 5*time.Second)
	for _, s := range []string{" one", " two", " three"} {
		srv.append(t, "cm-step", s)
	}
	net.SetOffline(false)
	eval[chromedp.Void](cm, `example.conn.retryNow()`)
	const want = "seed more text one two three"
	cm.waitFor(`example.view.state.doc.toString() === `+jsString(want)+` && example.doc.text === `+jsString(want), cmStateJS, 15*time.Second)
	if got := convergeCM(t, srv, "cm-step", []*page{cm}, nil); got != want {
		t.Fatalf("converged on %q, want %q", got, want)
	}
	// At most one dispatch per remote change and one resync.
	if n := eval[int](cm, `window.changing`); n > 4 {
		t.Errorf("%d dispatches changed the text in a catch-up of 3 changes", n)
	}
}
