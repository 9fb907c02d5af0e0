package e2e

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/collabedit/collab/internal/faultnet"
)

// previewJS describes the preview for failure messages.
const previewJS = `JSON.stringify({open: !document.getElementById('preview').hidden,
	html: document.getElementById('preview-body').innerHTML, text: document.getElementById('text').value})`

// rendered is true once the preview shows the textarea's current text.
const renderedJS = `document.getElementById('preview').dataset.rendered === String(collab.binding.view.length)`

// TestMarkdownPreview: the preview renders the Markdown typed (heading,
// list, link) beside the text on a wide screen and under it on a narrow
// one; markup meant to run script never runs nor reaches the page; an
// edit from another page shows in the preview; the first line is the
// title of the page; the downloads hold the text.
func TestMarkdownPreview(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	pages, _ := editors(t, srv, "md", "Ana", "Ben")
	a, b := pages[0], pages[1]
	eval[chromedp.Void](a, `(() => { window.violations = [];
		document.addEventListener('securitypolicyviolation', (e) => window.violations.push(e.violatedDirective + ' ' + e.blockedURI)); })()`)

	// Closed until asked for.
	if open := eval[bool](a, `!document.getElementById('preview').hidden`); open {
		t.Fatal("the preview is open before it was asked for")
	}
	eval[chromedp.Void](a, `document.getElementById('preview-toggle').click()`)
	if p := eval[string](a, `document.getElementById('preview-toggle').getAttribute('aria-pressed')`); p != "true" {
		t.Errorf("toggle aria-pressed %q after opening", p)
	}

	a.caret(-1)
	a.keys("# Shopping list\n\n- apples\n- [pears](https://example.com/p)\n")
	a.waitSaved()
	// The preview renders in a worker, behind the typing: wait for the
	// render of the whole text, not one of a part of it.
	a.waitFor(renderedJS+` && document.querySelector('#preview-body h1')?.textContent === 'Shopping list'`, previewJS, 5*time.Second)
	if !eval[bool](a, `collab.preview.worker !== null`) {
		t.Error("the Markdown is parsed on the page's thread: the worker did not start")
	}
	items := eval[[]string](a, `[...document.querySelectorAll('#preview-body ul > li')].map((li) => li.textContent)`)
	if strings.Join(items, "|") != "apples|pears" {
		t.Errorf("list items %q", items)
	}
	link := eval[[]string](a, `(() => { const l = document.querySelector('#preview-body li a');
		return [l.getAttribute('href'), l.textContent, l.rel, l.target]; })()`)
	if strings.Join(link, "|") != "https://example.com/p|pears|noopener noreferrer nofollow|_blank" {
		t.Errorf("link %q", link)
	}

	// The title: the first line, without its "#".
	if h := eval[string](a, `document.getElementById('doc-name').textContent`); h != "Shopping list" {
		t.Errorf("header %q, want the first line", h)
	}
	a.waitFor(`document.title === 'Shopping list · collab'`, `document.title`, 5*time.Second)
	b.waitFor(`document.getElementById('doc-name').textContent === 'Shopping list'`, `document.getElementById('doc-name').textContent`, 5*time.Second)

	// Side by side on a wide screen, one under the other on a narrow one.
	const rectsJS = `(() => { const e = document.querySelector('.editor-wrap').getBoundingClientRect();
		const p = document.getElementById('preview').getBoundingClientRect();
		return [e.left, e.right, e.top, e.bottom, p.left, p.right, p.top, p.bottom]; })()`
	a.viewport(1200, 700, false)
	if r := eval[[]float64](a, rectsJS); !(r[4] >= r[1] && r[2] == r[6]) {
		t.Errorf("wide: editor %v, preview %v: want the preview to the right, level with the text", r[:4], r[4:])
	}
	saveShot(t, a, "markdown-wide.png")
	a.viewport(640, 700, false)
	if r := eval[[]float64](a, rectsJS); !(r[6] >= r[3]) {
		t.Errorf("narrow: editor %v, preview %v: want the preview under the text", r[:4], r[4:])
	}
	saveShot(t, a, "markdown-narrow.png")

	// Markup that would run script: none of it runs, none reaches the
	// preview as written.
	a.caret(-1)
	a.insert("\n<script>window.pwned = 'script'</script>\n\n" +
		"<img src=\"/nothing.png\" onerror=\"window.pwned = 'onerror'\">\n\n" +
		"[click me](javascript:window.pwned='md-link')\n\n" +
		"<a href=\"javascript:window.pwned='a'\" onclick=\"window.pwned='onclick'\">raw link</a>\n\n" +
		"<iframe src=\"javascript:parent.pwned='iframe'\"></iframe>\n\n" +
		"<svg><script>window.pwned='svg'</script></svg>\n\n" +
		"<form action=\"javascript:alert(1)\"><button>go</button></form>\n\n" +
		"<p style=\"background:url(javascript:alert(1))\">styled</p>\n")
	a.waitSaved()
	a.waitFor(renderedJS, previewJS, 5*time.Second)
	eval[chromedp.Void](a, `document.querySelectorAll('#preview-body a, #preview-body button').forEach((el) => {
		if (!/^https?:/.test(el.getAttribute('href') || '')) el.click(); })`)
	time.Sleep(300 * time.Millisecond) // an error event or a click would have run by now
	if pw := eval[string](a, `String(window.pwned)`); pw != "undefined" {
		t.Errorf("the document's script ran: window.pwned = %q", pw)
	}
	bad := eval[[]string](a, `[...document.querySelectorAll('#preview-body *')].flatMap((el) => {
		const out = [];
		if (/^(script|iframe|svg|form|button|style|object|embed)$/i.test(el.tagName)) out.push(el.tagName);
		for (const at of el.attributes) {
			if (/^on/i.test(at.name) || at.name === 'style' || /javascript:/i.test(at.value)) out.push(el.tagName + ' ' + at.name + '=' + at.value);
		}
		return out; })`)
	if len(bad) != 0 {
		t.Errorf("unsanitized markup in the preview: %q", bad)
	}
	if html := eval[string](a, `document.getElementById('preview-body').innerHTML`); strings.Contains(strings.ToLower(html), "javascript:") || !strings.Contains(html, "raw link") {
		t.Errorf("preview HTML %s", html)
	}
	// The sanitizer parses the HTML in an inert document, where Chromium
	// applies the page's policy to inline handlers and styles and reports
	// them (script-src-attr, style-src-attr) though nothing could run there.
	// Any other violation would be markup that reached the live page.
	for _, v := range eval[[]string](a, `window.violations`) {
		if !strings.HasSuffix(v, "-src-attr inline") {
			t.Errorf("content security policy violation: %s", v)
		}
	}

	// Another page's edit shows in the preview.
	b.caret(-1)
	b.keys("\n## From Ben\n")
	b.waitSaved()
	a.waitFor(`[...document.querySelectorAll('#preview-body h2')].some((h) => h.textContent === 'From Ben')`, previewJS, 5*time.Second)
	// A change of the first line, from the other page, renames this one.
	b.caret(2)
	b.keys("Big ")
	b.waitSaved()
	a.waitFor(`document.getElementById('doc-name').textContent === 'Big Shopping list'`, `document.getElementById('doc-name').textContent`, 5*time.Second)
	text := converge(t, srv, "md", a, b)

	// Downloads: the text, named after the title.
	for _, c := range []struct{ button, name, typ string }{
		{"download-md", "Big Shopping list.md", "text/markdown;charset=utf-8"},
		{"download-txt", "Big Shopping list.txt", "text/plain;charset=utf-8"},
	} {
		eval[chromedp.Void](a, `window.collabLastDownload = null; document.getElementById('`+c.button+`').click()`)
		got := eval[[]string](a, `(async () => { const d = window.collabLastDownload;
			return [d.name, d.type, await d.blob.text(), d.href.slice(0, 5)]; })()`)
		if got[0] != c.name || got[1] != c.typ || got[2] != text || got[3] != "blob:" {
			t.Errorf("%s: name %q type %q text %q, want %q %q %q", c.button, got[0], got[1], got[2], c.name, c.typ, text)
		}
	}

	// The list page shows the title under the name, and filters by it.
	list := openPage(t, "list", "http://"+srv.addr+"/")
	list.waitFor(`[...document.querySelectorAll('#docs tbody tr')].some((tr) =>
		tr.querySelector('a').textContent === 'md' && tr.querySelector('.doc-title')?.textContent === 'Big Shopping list')`,
		`document.querySelector('#docs tbody').innerText`, 5*time.Second)
	saveShot(t, list, "markdown-list.png")
	eval[chromedp.Void](list, `document.getElementById('filter').focus()`)
	list.keys("shopping")
	list.waitFor(`document.querySelectorAll('#docs tbody tr').length === 1`, `document.querySelector('#docs tbody').innerText`, 5*time.Second)

	// Closing the preview stops rendering it; the choice is remembered.
	eval[chromedp.Void](a, `document.getElementById('preview-toggle').click()`)
	if open := eval[bool](a, `!document.getElementById('preview').hidden`); open {
		t.Error("the preview stayed open after the toggle")
	}
	if s := eval[string](a, `localStorage.getItem('collab.preview')`); s != "0" {
		t.Errorf("stored preview choice %q", s)
	}
}

// saveShot keeps a screenshot of the page among the test's artifacts, for
// a person to look at.
func saveShot(t *testing.T, p *page, name string) {
	t.Helper()
	buf, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("%s: screenshot: %v", p.name, err)
	}
	if err := os.WriteFile(artifactPath(t, name), buf, 0o644); err != nil {
		t.Error(err)
	}
}

// TestMarkdownPreviewLongDocument: a long Markdown document (lists and
// links throughout, the slowest kind to parse) is previewed in full, and
// keys typed while it renders all end up in the preview.
func TestMarkdownPreviewLongDocument(t *testing.T) {
	// Not parallel: rendering 150 KB of Markdown takes the main thread for
	// a while under -race, and beside the other pages' tests on 2 cores
	// twenty key events then took over 20 s.
	srv := startServer(t)
	unit := "## Section\n\nSome *text* with a [link](https://example.com/x) and `code`.\n\n- one\n- two\n\n"
	srv.seed(t, "long", strings.Repeat(unit, 150_000/len(unit)))
	px := faultnet.Start(t, srv.addr)
	p := openPage(t, "long", px.URL("/d/long"))
	p.waitSaved()
	eval[chromedp.Void](p, `document.getElementById('preview-toggle').click()`)
	p.caret(-1)
	p.insert("\n# The end\n\nlast ") // as a keyboard commits text: one input event
	p.keys("words")
	p.waitSaved()
	p.waitFor(renderedJS, `JSON.stringify({rendered: document.getElementById('preview').dataset.rendered, length: collab.binding.view.length})`, 20*time.Second)
	if got := eval[string](p, `document.querySelector('#preview-body > p:last-child').textContent`); got != "last words" {
		t.Errorf("the preview ends with %q", got)
	}
	if n := eval[int](p, `document.querySelectorAll('#preview-body h2').length`); n != 150_000/len(unit) {
		t.Errorf("%d sections in the preview, want %d", n, 150_000/len(unit))
	}
}
