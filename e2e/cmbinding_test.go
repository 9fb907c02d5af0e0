package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/collabedit/collab/internal/poll"
)

// lateEditorsJS opens two more documents on the example page's connection
// and, once each has loaded, binds a CodeMirror editor to it as
// docs/client-js.md says: "late" with collab(doc) in a new EditorView
// made from doc.text, "bound" with bindCodeMirror on an editor that
// exists already. The binding's plugin is then made while CodeMirror is
// building or updating the view, when it takes no dispatch.
const lateEditorsJS = `(async () => {
	const { EditorView } = await import('/vendor/codemirror/view.js');
	const { collab, bindCodeMirror } = await import('/codemirror.js');
	window.crashes = [];
	const logException = console.error;
	console.error = (...a) => { window.crashes.push(a.map(String).join(' ')); return logException.apply(console, a); };
	const late = example.conn.open('cm-late', { presence: { name: 'Late' } });
	await late.whenLoaded();
	const lateView = new EditorView({ doc: late.text, extensions: [collab(late)], parent: document.body });
	const bound = example.conn.open('cm-bound', { presence: { name: 'Bound' } });
	await bound.whenLoaded();
	const boundView = new EditorView({ doc: bound.text, parent: document.body });
	bindCodeMirror(boundView, bound);
	window.more = { late: { doc: late, view: lateView }, bound: { doc: bound, view: boundView } };
})()`

// TestCodeMirrorBoundToLoadedDocument: the documented ways to put a
// CodeMirror editor on a document that has loaded already (collab(doc) in
// a new EditorView; bindCodeMirror on an existing one) give an editor
// that is editable, sends what is typed and shows remote edits; the
// binding's start-up must not dispatch while CodeMirror builds the view.
func TestCodeMirrorBoundToLoadedDocument(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.seed(t, "cm-late", "late: ")
	srv.seed(t, "cm-bound", "bound: ")
	cm := openCodeMirror(t, srv, "cm-host", "Cora")
	eval[chromedp.Void](cm, lateEditorsJS)
	for _, name := range []string{"late", "bound"} {
		cm.waitFor(fmt.Sprintf(`!more.%s.view.state.readOnly`, name),
			`JSON.stringify({crashes: window.crashes, late: more.late.view.state.readOnly, bound: more.bound.view.state.readOnly})`, 10*time.Second)
		// An edit as the editor's input makes it (a transaction marked
		// input.type; dispatched, so readOnly would not stop it: the
		// check above does).
		eval[chromedp.Void](cm, fmt.Sprintf(`(() => { const v = more.%[1]s.view; const end = v.state.doc.length;
			v.dispatch({ changes: { from: end, insert: 'typed in %[1]s' }, userEvent: 'input.type' }); })()`, name))
	}
	if crashes := eval[[]string](cm, `window.crashes`); len(crashes) > 0 {
		t.Errorf("the page logged errors: %q", crashes)
	}
	// A remote edit reaches each editor too.
	for doc, want := range map[string]string{"cm-late": "late: typed in late", "cm-bound": "bound: typed in bound"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if !poll.Wait(ctx, func() bool { got, _ := srv.text(t, doc); return got == want }) {
			got, _ := srv.text(t, doc)
			t.Errorf("server has %q for %s, want %q", got, doc, want)
		}
		cancel()
	}
	for _, name := range []string{"late", "bound"} {
		srv.append(t, "cm-"+name, "!")
		cm.waitFor(fmt.Sprintf(`more.%[1]s.view.state.doc.toString() === '%[1]s: typed in %[1]s!'`, name),
			fmt.Sprintf(`JSON.stringify(more.%s.view.state.doc.toString())`, name), 10*time.Second)
	}
}

// sliceWatchJS records how much of the editor's text the binding
// (codemirror.js) reads at once: CodeMirror's Text classes are patched so
// that a sliceString over 1,000 characters called from the binding is
// counted. Position conversions in a text with surrogate pairs must go
// through the document's astral index, not a read of the text up to the
// position.
const sliceWatchJS = `(() => {
	window.bigSlices = [];
	const seen = new Set();
	const patch = (t) => {
		const proto = Object.getPrototypeOf(t);
		if (seen.has(proto)) return;
		seen.add(proto);
		const orig = proto.sliceString;
		proto.sliceString = function (from, to, sep) {
			const end = to === undefined ? this.length : to;
			if (end - from > 1000) {
				const stack = new Error().stack;
				if (/\/codemirror\.js:\d+/.test(stack)) window.bigSlices.push([from, end, stack.split('\n').slice(1, 5).join(' | ')]);
			}
			return orig.call(this, from, to, sep);
		};
		if (t.children) for (const c of t.children) patch(c);
	};
	patch(example.view.state.doc);
})()`

// TestCodeMirrorLongAstralDocument: a 100,000-character document with
// emoji at both ends, five WebSocket typists inserting anywhere with
// their carets, and the CodeMirror page typing in the middle: everything
// converges, the emoji stay whole, and the binding never reads the
// editor's text to convert a position (its cost per edit and per caret
// is in proportion to the edit, as in the textarea binding).
func TestCodeMirrorLongAstralDocument(t *testing.T) {
	t.Parallel()
	runAlone(t)
	srv := startServer(t)
	const n = 100_000
	seed := "🙂 " + lorem(n-8) + " 🎈 end"
	seedCP := utf8.RuneCountInString(seed)
	srv.seed(t, "cm-astral", seed)
	cm := openCodeMirror(t, srv, "cm-astral", "Cora")
	cm.waitFor(fmt.Sprintf(`example.view.state.doc.length === %d`, utf16Len(seed)), cmStateJS, 20*time.Second)
	eval[chromedp.Void](cm, sliceWatchJS)
	stopTypists := typists(t, srv, "cm-astral", 5, seedCP-10, 200*time.Millisecond)
	mid := utf16Len(seed) / 2
	eval[chromedp.Void](cm, fmt.Sprintf(`(() => { example.view.focus();
		example.view.dispatch({selection: {anchor: %d}, scrollIntoView: true}); })()`, mid))
	const keys = "typed between the typists 🚀 ok"
	before, after, _ := strings.Cut(keys, "🚀")
	cm.typeKeys(before, 60*time.Millisecond)
	cm.insert("🚀") // as an emoji keyboard commits it
	cm.typeKeys(after, 60*time.Millisecond)
	// The others' carets are drawn from presence while they type.
	// (CodeMirror draws only the lines in view, so most carets are not in
	// the DOM; the binding places every one.)
	cm.waitFor(`example.doc.peers.filter((p) => p.selection).length >= 5`, `JSON.stringify(example.doc.peers)`, 10*time.Second)
	remote := stopTypists()
	got := convergeCM(t, srv, "cm-astral", []*page{cm}, nil)
	want := seedCP + utf8.RuneCountInString(keys) + remote
	if n := utf8.RuneCountInString(got); n < want || n > want+5 {
		t.Errorf("the document has %d code points, want %d (seed) + %d (typed) + %d (remote)", n, seedCP, utf8.RuneCountInString(keys), remote)
	}
	for _, e := range []string{"🙂", "🎈", "🚀"} {
		if !utf8.ValidString(got) || strings.Count(got, e) != 1 {
			t.Errorf("%s is in the text %d times, want once (valid UTF-8: %v)", e, strings.Count(got, e), utf8.ValidString(got))
		}
	}
	if remote < 20 {
		t.Errorf("only %d remote ops were acknowledged; the typists did not type", remote)
	}
	if big := eval[[][3]any](cm, `window.bigSlices.slice(0, 5)`); len(big) > 0 {
		t.Errorf("the binding read %d+ long stretches of the editor's text to convert positions, e.g. %v", len(big), big)
	}
}

// append adds suffix at the end of doc as another client would, and waits
// for its ack.
func (s *server) append(t *testing.T, doc, suffix string) {
	t.Helper()
	s.edit(t, doc, func(text string) []any { return []any{utf8.RuneCountInString(text), suffix} })
}

// edit applies the op that makeOp returns for doc's current text, as
// another client would, and waits for its ack.
func (s *server) edit(t *testing.T, doc string, makeOp func(text string) []any) {
	t.Helper()
	text, version := s.text(t, doc)
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+s.addr+"/ws", nil)
	if err != nil {
		t.Fatalf("dial server: %v", err)
	}
	defer ws.Close()
	for _, m := range []any{
		map[string]any{"type": "open", "doc": doc, "version": version},
		map[string]any{"type": "op", "doc": doc, "version": version, "id": fmt.Sprintf("edit:%d", version), "op": makeOp(text)},
	} {
		if err := ws.WriteJSON(m); err != nil {
			t.Fatal(err)
		}
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var m struct{ Type string }
		if err := ws.ReadJSON(&m); err != nil {
			t.Fatalf("edit %s: %v", doc, err)
		}
		switch m.Type {
		case "ack":
			return
		case "error":
			t.Fatalf("edit of %s refused", doc)
		}
	}
}

// TestCodeMirrorRemoteEditPastChangeFilter: an app's change filter (here
// one that keeps a label at the start from being edited) stops its user,
// not other people: a remote edit inside the protected range is applied,
// and the editor keeps showing the server's text.
func TestCodeMirrorRemoteEditPastChangeFilter(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.seed(t, "cm-filter", "label: text")
	cm := openCodeMirror(t, srv, "cm-host", "Cora")
	eval[chromedp.Void](cm, `(async () => {
		const { EditorState } = await import('/vendor/codemirror/state.js');
		const { EditorView } = await import('/vendor/codemirror/view.js');
		const { collab } = await import('/codemirror.js');
		const doc = example.conn.open('cm-filter', { presence: { name: 'Filter' } });
		await doc.whenLoaded();
		const protect = EditorState.changeFilter.of(() => [0, 6]);
		window.filtered = { doc, view: new EditorView({ doc: doc.text, extensions: [protect, collab(doc)], parent: document.body }) };
	})()`)
	cm.waitFor(`!filtered.view.state.readOnly`, `JSON.stringify(filtered.view.state.doc.toString())`, 10*time.Second)
	srv.edit(t, "cm-filter", func(string) []any { return []any{2, "B", -1} }) // "label" → "laBel"
	cm.waitFor(`filtered.view.state.doc.toString() === 'laBel: text' && filtered.doc.text === 'laBel: text'`,
		`JSON.stringify([filtered.view.state.doc.toString(), filtered.doc.text])`, 10*time.Second)
}

// TestCodeMirrorEditBeforeStartUp: an edit made in the same task that
// binds an editor holding other text (before the binding has shown the
// document) is not sent as an edit of the document: the editor then shows
// the document's text, and the server's is untouched.
func TestCodeMirrorEditBeforeStartUp(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.seed(t, "cm-early", "😀 document")
	cm := openCodeMirror(t, srv, "cm-host", "Cora")
	eval[chromedp.Void](cm, `(async () => {
		const { EditorView } = await import('/vendor/codemirror/view.js');
		const { bindCodeMirror } = await import('/codemirror.js');
		const doc = example.conn.open('cm-early', { presence: { name: 'Early' } });
		await doc.whenLoaded();
		const view = new EditorView({ doc: 'something else entirely', parent: document.body });
		bindCodeMirror(view, doc);
		view.dispatch({ changes: { from: 9, insert: '!' } }); // before the binding's start-up
		window.early = { doc, view };
	})()`)
	cm.waitFor(`early.view.state.doc.toString() === '😀 document' && early.doc.status === 'saved'`,
		`JSON.stringify([early.view.state.doc.toString(), early.doc.text, early.doc.status])`, 10*time.Second)
	if got, _ := srv.text(t, "cm-early"); got != "😀 document" {
		t.Fatalf("the server has %q, want the seed untouched", got)
	}
}
