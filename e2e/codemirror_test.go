package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/collabedit/collab/internal/poll"
)

// The CodeMirror example page (static/examples/codemirror.html), which
// uses only the package's public API (static/index.js, codemirror.js).

// openCodeMirror opens the CodeMirror example on doc as name and waits
// until it has the document with nothing unsaved.
func openCodeMirror(t *testing.T, srv *server, doc, name string) *page {
	t.Helper()
	p := openPage(t, name, fmt.Sprintf("http://%s/examples/codemirror.html?doc=%s&name=%s", srv.addr, doc, name))
	p.waitCMSaved()
	return p
}

const cmStateJS = `JSON.stringify(window.example ? {status: example.doc.status, text: example.view.state.doc.toString(),
	doc: example.doc.text, version: example.doc.version, conn: example.conn.state} : 'no example')`

func (p *page) waitCMSaved() {
	p.t.Helper()
	p.waitFor(`window.example && example.doc.status === 'saved' && !example.view.state.readOnly`, cmStateJS, 15*time.Second)
}

// cmText is what the CodeMirror editor shows.
func (p *page) cmText() string {
	p.t.Helper()
	return eval[string](p, `example.view.state.doc.toString()`)
}

// cmSelect focuses the editor and selects UTF-16 positions anchor..head.
func (p *page) cmSelect(anchor, head int) {
	p.t.Helper()
	eval[chromedp.Void](p, fmt.Sprintf(`(() => { example.view.focus();
		example.view.dispatch({selection: {anchor: %d, head: %d}}); })()`, anchor, head))
}

// convergeCM waits until the CodeMirror pages, the textarea pages and the
// server have the same text with nothing unsaved, and returns it.
func convergeCM(t *testing.T, srv *server, doc string, cms []*page, tas []*page) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var want string
	same := func() bool {
		want, _ = srv.text(t, doc)
		for _, p := range cms {
			if eval[string](p, `example.doc.status`) != "saved" || p.cmText() != want || eval[string](p, `example.doc.text`) != want {
				return false
			}
		}
		for _, p := range tas {
			p.waitSaved()
			if p.value() != want {
				return false
			}
		}
		return true
	}
	if !poll.Wait(ctx, same) {
		for _, p := range cms {
			t.Logf("%s: %s", p.name, eval[string](p, cmStateJS))
		}
		for _, p := range tas {
			t.Logf("%s: %q", p.name, p.value())
		}
		t.Fatalf("pages did not converge on the server's text %q", want)
	}
	return want
}

// TestCodeMirrorAndTextareaConverge: a CodeMirror page (the package's
// example) and a textarea page (the editor) type into one document at
// once, with emoji (UTF-16 is not code points); a remote edit around the
// CodeMirror user's selection keeps it on the same text; the other's
// caret label shows in CodeMirror; Ctrl+Z in CodeMirror undoes only its
// own typing; everything converges with the server.
func TestCodeMirrorAndTextareaConverge(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.seed(t, "cm-shared", "middle\n")
	cm := openCodeMirror(t, srv, "cm-shared", "Cora")
	tas, _ := editors(t, srv, "cm-shared", "Tess")
	ta := tas[0]

	// Both type at once: Cora at the start, Tess at the end.
	cm.cmSelect(0, 0)
	ta.caret(-1)
	together(t, map[*page]chromedp.Action[chromedp.Void]{
		cm: typing(step{keys: "Hello from Cora "}, step{insert: "😀"}, step{keys: " and more "}, step{insert: "👍🏽"}),
		ta: typing(step{keys: "Tess was here "}, step{insert: "🎉"}, step{keys: " end"}),
	})
	got := convergeCM(t, srv, "cm-shared", []*page{cm}, []*page{ta})
	want := "Hello from Cora 😀 and more 👍🏽middle\nTess was here 🎉 end"
	if got != want {
		t.Fatalf("converged on\n%q\nwant\n%q", got, want)
	}
	if c := eval[int](cm, `example.view.state.selection.main.head`); c != utf16Len("Hello from Cora 😀 and more 👍🏽") {
		t.Errorf("Cora's caret at %d, want right after her text (%d)", c, utf16Len("Hello from Cora 😀 and more 👍🏽"))
	}

	// Tess's caret shows in CodeMirror with her name.
	cm.waitFor(`[...document.querySelectorAll('.cm-collab-label')].some((l) => l.textContent === 'Tess')`,
		`JSON.stringify([...document.querySelectorAll('.cm-collab-label')].map((l) => l.textContent))`, 10*time.Second)

	// Cora selects "middle"; Tess types right before and right after it.
	start := utf16Len("Hello from Cora 😀 and more 👍🏽")
	cm.cmSelect(start, start+len("middle"))
	at := func(s string) int { v := ta.value(); return utf16Len(v[:strings.Index(v, s)]) }
	ta.caret(at("middle") + len("middle"))
	ta.keys("!")
	ta.insert("✨")
	ta.caret(at("middle"))
	ta.insert("🌟")
	ta.keys("[")
	convergeCM(t, srv, "cm-shared", []*page{cm}, []*page{ta})
	if sel := eval[string](cm, `example.view.state.sliceDoc(example.view.state.selection.main.from, example.view.state.selection.main.to)`); sel != "middle" {
		t.Errorf("Cora's selection is %q after Tess typed around it, want %q", sel, "middle")
	}
	if c := eval[int](cm, `example.view.state.selection.main.head`); c <= eval[int](cm, `example.view.state.selection.main.anchor`) {
		t.Errorf("Cora's selection lost its direction")
	}

	// Cora types a word at the end; Tess then types at the start; Cora's
	// Ctrl+Z takes out her word only, not Tess's text.
	end := utf16Len(cm.cmText())
	cm.cmSelect(end, end)
	cm.keys(" mine")
	convergeCM(t, srv, "cm-shared", []*page{cm}, []*page{ta})
	ta.caret(0)
	ta.keys("T:")
	convergeCM(t, srv, "cm-shared", []*page{cm}, []*page{ta})
	cm.call(func(ctx context.Context, tg *chromedp.Target) error {
		return pressKey(ctx, tg, "z", modCtrl)
	})
	got = convergeCM(t, srv, "cm-shared", []*page{cm}, []*page{ta})
	if strings.Contains(got, "mine") || !strings.HasPrefix(got, "T:Hello from Cora") || !strings.Contains(got, "🌟[middle!✨") {
		t.Fatalf("after Cora's Ctrl+Z the text is %q: want her \" mine\" gone and all of Tess's typing kept", got)
	}
	// Ctrl+Z again must not undo Tess's edits either (they are not in
	// Cora's history); it takes out Cora's earlier typing.
	cm.call(func(ctx context.Context, tg *chromedp.Target) error {
		return pressKey(ctx, tg, "z", modCtrl)
	})
	got = convergeCM(t, srv, "cm-shared", []*page{cm}, []*page{ta})
	for _, s := range []string{"T:", "🌟[", "!✨", "Tess was here 🎉 end"} {
		if !strings.Contains(got, s) {
			t.Errorf("a second Ctrl+Z in CodeMirror took out Tess's %q: %q", s, got)
		}
	}
}

// TestCodeMirrorAndTextareaExample: the two example pages, each using
// only the package's API (bindTextarea; collab() for CodeMirror), type
// into one document together with astral text, see each other in the
// presence events, and converge.
func TestCodeMirrorAndTextareaExample(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.seed(t, "cm-example", "🙂 start\n")
	cm := openCodeMirror(t, srv, "cm-example", "Cora")
	ta := openPage(t, "Tom", fmt.Sprintf("http://%s/examples/textarea.html?doc=cm-example&name=Tom", srv.addr))
	ta.waitFor(`window.example && example.doc.status === 'saved' && !example.textarea.readOnly`,
		`JSON.stringify(window.example && {status: example.doc.status, text: example.textarea.value})`, 15*time.Second)
	eval[chromedp.Void](ta, `(() => { const t = example.textarea; t.focus(); t.setSelectionRange(t.value.length, t.value.length); })()`)
	cm.cmSelect(utf16Len("🙂"), utf16Len("🙂"))
	together(t, map[*page]chromedp.Action[chromedp.Void]{
		cm: typing(step{keys: " cm "}, step{insert: "🎈"}, step{keys: " typing"}),
		ta: typing(step{keys: "ta "}, step{insert: "🚀"}, step{keys: " typing"}),
	})
	want := "🙂 cm 🎈 typing start\nta 🚀 typing"
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	ok := poll.Wait(ctx, func() bool {
		got, _ := srv.text(t, "cm-example")
		return got == want && cm.cmText() == want && eval[string](ta, `example.textarea.value`) == want &&
			eval[string](ta, `example.doc.status`) == "saved" && eval[string](cm, `example.doc.status`) == "saved"
	})
	if !ok {
		got, _ := srv.text(t, "cm-example")
		t.Fatalf("server %q, CodeMirror %q, textarea %q; want %q", got, cm.cmText(), eval[string](ta, `example.textarea.value`), want)
	}
	// Each sees the other in its presence, with a selection on its text.
	ta.waitFor(`example.doc.peers.some((p) => p.name === 'Cora' && p.selection)`, `JSON.stringify(example.doc.peers)`, 10*time.Second)
	cm.waitFor(`example.doc.peers.some((p) => p.name === 'Tom' && p.selection && p.selection.head === [...example.doc.text].length)`,
		`JSON.stringify(example.doc.peers)`, 10*time.Second)
}
