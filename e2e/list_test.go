package e2e

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/collabedit/collab/internal/faultnet"
)

// rowsJS reads the document list's rows as {cells} arrays of text (the
// name's link text, without the title under it) and the name link's href.
const rowsJS = `[...document.querySelectorAll('#docs tbody tr')].map((tr) =>
	[...tr.cells].slice(0, 4).map((td, i) => i === 0 ? td.querySelector('a').textContent : td.textContent).concat(tr.querySelector('a').getAttribute('href')))`

// TestDocumentList: the start page lists documents with their size in
// characters (code points: an emoji is one), last change and version,
// filters them, and opens or creates a document by name.
func TestDocumentList(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.seed(t, "plan.v2", "héllo 😀")
	srv.seed(t, "notes", strings.Repeat("x", 1234))
	px := faultnet.Start(t, srv.addr)
	p := openPage(t, "list", px.URL("/"))
	p.waitFor(`document.querySelectorAll('#docs tbody tr').length === 2`, `document.body.innerText`, 5*time.Second)

	rows := eval[[][]string](p, rowsJS)
	want := [][]string{
		{"notes", "just now", "1,234 characters", "1", "/d/notes"},
		{"plan.v2", "just now", "7 characters", "1", "/d/plan.v2"},
	}
	if strings.Join(flat(rows), "|") != strings.Join(flat(want), "|") {
		t.Fatalf("rows %q, want %q", rows, want)
	}
	if s := eval[string](p, `document.getElementById('list-status').textContent`); !strings.Contains(s, "2 documents") {
		t.Errorf("list status %q", s)
	}

	// A refresh keeps the keyboard focus where it was and does not repeat
	// the unchanged status in the live region.
	eval[chromedp.Void](p, `(() => { document.querySelector('button[aria-label="Copy link to plan.v2"]').focus();
		window.statusWrites = 0;
		new MutationObserver((ms) => { window.statusWrites += ms.length; })
			.observe(document.getElementById('list-status'), { childList: true, characterData: true, subtree: true });
		document.querySelector('#docs tbody tr').dataset.old = 'yes'; // gone once the rows are rebuilt
		document.dispatchEvent(new Event('visibilitychange')); })()`)
	p.waitFor(`!document.querySelector('#docs tbody tr[data-old]')`, `document.body.innerText`, 5*time.Second)
	if f := eval[string](p, `document.activeElement.getAttribute('aria-label') || document.activeElement.tagName`); f != "Copy link to plan.v2" {
		t.Errorf("after a refresh the focus is on %q, want the same Copy button", f)
	}
	if n := eval[int](p, `window.statusWrites`); n != 0 {
		t.Errorf("a refresh with nothing new wrote the live status %d times", n)
	}

	// Filtering by name.
	eval[chromedp.Void](p, `document.getElementById('filter').focus()`)
	p.keys("plan")
	p.waitFor(`document.querySelectorAll('#docs tbody tr').length === 1`, rowsJS+`.join(';')`, 5*time.Second)

	// A name the server would refuse is refused here, with the reason.
	eval[chromedp.Void](p, `document.getElementById('doc-id').focus()`)
	p.keys("bad name\n")
	p.waitFor(`document.getElementById('doc-id-error').textContent.includes('only use')`, `document.getElementById('doc-id-error').textContent`, 5*time.Second)
	if msg := eval[string](p, `document.getElementById('doc-id-error').textContent`); !strings.Contains(msg, "Try “bad-name”") {
		t.Errorf("refusal %q suggests no valid name", msg)
	}
	if inv := eval[string](p, `document.getElementById('doc-id').getAttribute('aria-invalid')`); inv != "true" {
		t.Errorf("aria-invalid = %q on a refused name", inv)
	}

	// A new name opens an empty document at its shareable link.
	eval[chromedp.Void](p, `(() => { const i = document.getElementById('doc-id'); i.value = ''; i.focus(); })()`)
	p.keys("fresh-doc\n")
	p.waitFor(`location.pathname === '/d/fresh-doc'`, `location.href`, 5*time.Second)
	p.waitSaved()
	if v := p.value(); v != "" {
		t.Fatalf("a new document shows %q", v)
	}
	p.keys("first words")
	p.waitSaved()
	if text, _ := srv.text(t, "fresh-doc"); text != "first words" {
		t.Fatalf("server has %q", text)
	}
	// Back on the list, it is first, with its size.
	p.do(chromedp.Navigate(px.URL("/")))
	p.waitFor(`document.querySelectorAll('#docs tbody tr').length === 3`, `document.body.innerText`, 5*time.Second)
	if first := eval[[][]string](p, rowsJS)[0]; first[0] != "fresh-doc" || first[2] != "11 characters" {
		t.Errorf("first row %q, want fresh-doc with 11 characters", first)
	}
}

func flat(rows [][]string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

// labelledJS lists the form controls of the page that have no accessible
// name (label, aria-label, aria-labelledby or text).
const labelledJS = `[...document.querySelectorAll('input, textarea, button, select')].filter((el) =>
	!(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby') &&
	!el.textContent.trim()).map((el) => el.id || el.outerHTML)`

// TestPhoneAndAccessibility: on a 375 px phone both pages fit the width
// (no sideways scrolling), the text is at least 16 px (no zoom on focus)
// and the editor keeps a usable height; every control has an accessible
// name; keyboard focus is visible; the status is a live region.
func TestPhoneAndAccessibility(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.seed(t, "phone", "A line long enough to wrap on a narrow phone screen, with an emoji 📱 in it.\n")
	px := faultnet.Start(t, srv.addr)
	for _, path := range []string{"/", "/d/phone"} {
		p := openPage(t, "phone "+path, px.URL(path))
		p.viewport(375, 667, true)
		if path == "/" {
			p.waitFor(`document.querySelectorAll('#docs tbody tr').length === 1`, `document.body.innerText`, 5*time.Second)
		} else {
			p.waitSaved()
			// Ready to type at once, at the top, where the text is shown.
			if at := eval[string](p, `document.activeElement.id + ' ' + document.getElementById('text').selectionStart`); at != "text 0" {
				t.Errorf("%s: after loading, focus and caret are %q, want the textarea at 0", path, at)
			}
			if h := eval[float64](p, `document.getElementById('text').getBoundingClientRect().height`); h < 200 {
				t.Errorf("%s: editor is %.0f px high on a phone", path, h)
			}
			if fs := eval[string](p, `getComputedStyle(document.getElementById('text')).fontSize`); fs != "16px" {
				t.Errorf("%s: editor font %s, want 16px", path, fs)
			}
			// The changing status is not itself live; a separate polite
			// region says what matters (see TestOfflineEditsConverge).
			if live := eval[string](p, `[document.getElementById('status').getAttribute('aria-live'), document.getElementById('status').getAttribute('role'), document.getElementById('announce').getAttribute('aria-live')].join()`); live != ",,polite" {
				t.Errorf("status aria-live, role; announce aria-live = %q, want \",,polite\"", live)
			}
		}
		if over := eval[bool](p, `document.documentElement.scrollWidth > window.innerWidth`); over {
			t.Errorf("%s: page is wider than the phone (%d > %d)", path,
				eval[int](p, `document.documentElement.scrollWidth`), eval[int](p, `window.innerWidth`))
		}
		if missing := eval[[]string](p, labelledJS); len(missing) > 0 {
			t.Errorf("%s: controls without an accessible name: %q", path, missing)
		}
		// Tab moves the focus to a control, and the focus is drawn.
		p.keys("\t")
		if outline := eval[string](p, `getComputedStyle(document.activeElement).outlineStyle`); outline == "none" {
			t.Errorf("%s: focused %s shows no outline", path, eval[string](p, `document.activeElement.outerHTML.slice(0, 80)`))
		}
		if os.Getenv("ARTIFACT_DIR") != "" || testing.Verbose() {
			shot := sideBySide(t, screenshot(t, p))
			_ = os.WriteFile(artifactPath(t, "phone"+strings.ReplaceAll(path, "/", "-")+".png"), shot, 0o644)
		}
	}
}
