package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/collabedit/collab/internal/poll"
)

const notes = "Meeting notes, 12 March\n\nAgenda\n- Launch date for the editor 🚀\n- Who owns the docs\n\nDecisions\n- Ship the browser client on Friday\n"

// markJS returns the text of the page's document before the caret of the
// peer named name, as drawn in the mirror over the textarea, or null if
// that caret is not drawn.
func markJS(name string) string {
	return `(() => {
		const m = document.getElementById('mirror');
		const c = [...m.querySelectorAll('.peer-caret')].find((e) => e.textContent === ` + jsString(name) + `);
		if (!c) return null;
		const r = document.createRange();
		r.setStart(m, 0);
		r.setEndBefore(c);
		return r.toString();
	})()`
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestPresenceCursors: each page lists the other person with their name
// and a colour of their own (even when both chose the same one), and
// draws their caret and selection on the right characters, moving as
// they type; a selection does not take in text the other types at its
// edge; a screenshot of both pages is saved as an artifact.
func TestPresenceCursors(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.seed(t, "notes", notes)
	pages, _ := editors(t, srv, "notes", "Ann", "Bob")
	ann, bob := pages[0], pages[1]
	sameColour(t, ann, bob)
	for _, p := range pages {
		p.viewport(820, 400, false) // wide enough for the people panel
	}

	// Ann selects "Launch date"; Bob types a new decision at the end.
	selectLaunch(ann, "")
	bob.caret(-1)
	bob.do(typing(step{keys: "- Ann writes the README "}, step{insert: "✍️"}))
	want := notes + "- Ann writes the README ✍️"
	converge(t, srv, "notes", ann, bob)

	// Ann sees Bob's caret right after what he typed.
	ann.waitFor(markJS("Bob")+` === `+jsString(want), `JSON.stringify(`+markJS("Bob")+`)`, 5*time.Second)
	// Bob sees Ann's selection, tinted, and her caret at its end.
	bob.waitFor(`[...document.querySelectorAll('#mirror .peer-sel')].map((e) => e.textContent).join('') === 'Launch date'`,
		`document.getElementById('mirror').innerHTML`, 5*time.Second)
	bob.waitFor(markJS("Ann")+` === `+jsString(notes[:strings.Index(notes, " for the editor")]),
		`JSON.stringify(`+markJS("Ann")+`)`, 5*time.Second)
	// Both list the other person with a colour, and themselves.
	for _, tc := range []struct {
		p    *page
		want []string
	}{{ann, []string{"Ann (you)", "Bob"}}, {bob, []string{"Bob (you)", "Ann"}}} {
		got := eval[[]string](tc.p, `[...document.querySelectorAll('#people li')].map((li) => li.textContent)`)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s lists %q, want %q", tc.p.name, got, tc.want)
		}
	}

	// Ann's caret moves as Bob types before it, and his caret is drawn
	// where he types, not where his old one was moved to.
	bob.caret(0)
	bob.do(typing(step{keys: "# "}))
	bob.waitFor(markJS("Ann")+` === `+jsString("# "+notes[:strings.Index(notes, " for the editor")]),
		`JSON.stringify(`+markJS("Ann")+`)`, 5*time.Second)
	ann.waitFor(markJS("Bob")+` === "# "`, `JSON.stringify(`+markJS("Bob")+`)`, 5*time.Second)
	// Bob jumps to the end with the keyboard: his caret follows on Ann's page.
	bob.do(chromedp.KeyEvent(kb.End, chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	ann.waitFor(markJS("Bob")+` === `+jsString("# "+want), `JSON.stringify(`+markJS("Bob")+`)`, 5*time.Second)

	// Ann moves (selects her words again): her caret is active on Bob's
	// page, and Bob points at it, which shows her name (labels show only
	// under the pointer: they would cover the line above).
	selectLaunch(ann, "# ")
	bob.waitFor(`[...document.querySelectorAll('#mirror .peer-caret:not(.quiet)')].some((e) => e.textContent === 'Ann')`,
		`document.getElementById('mirror').innerHTML`, 5*time.Second)
	pointAtCaret(bob, "Ann")

	saveScreenshot(t, sideBySide(t, screenshot(t, ann), screenshot(t, bob)), "two-editors.png", "screenshot.png")

	// Bob types right after the words Ann has selected, then right before
	// them: her selection stays exactly "Launch date" on both pages, so
	// typing over it would not delete his text.
	at := eval[int](bob, `document.getElementById('text').value.indexOf('Launch date')`)
	bob.caret(at + len("Launch date"))
	bob.do(typing(step{keys: "!"}))
	bob.caret(at)
	bob.do(typing(step{keys: "~"}))
	converge(t, srv, "notes", ann, bob)
	if sel := eval[string](ann, selectedJS); sel != "Launch date" {
		t.Errorf("Ann's selection is %q after Bob typed at its edges, want %q", sel, "Launch date")
	}
	bob.waitFor(`[...document.querySelectorAll('#mirror .peer-sel')].map((e) => e.textContent).join('') === 'Launch date'`,
		`document.getElementById('mirror').innerHTML`, 5*time.Second)
}

// selectedJS is the text selected in the page's textarea.
const selectedJS = `(() => { const t = document.getElementById('text'); return t.value.slice(t.selectionStart, t.selectionEnd); })()`

// selectLaunch selects "Launch date" in the page's textarea, which shows
// notes with prefix before it.
func selectLaunch(p *page, prefix string) {
	p.t.Helper()
	start := utf16Len(prefix + notes[:strings.Index(notes, "Launch")])
	eval[chromedp.Void](p, `(() => { const t = document.getElementById('text'); t.focus();
		t.setSelectionRange(`+strconv.Itoa(start)+`, `+strconv.Itoa(start+len("Launch date"))+`); })()`)
}

// sameColour makes both pages choose the same colour and reloads them:
// one of the two must then show itself in another colour, and each page
// must show the other person in the colour that person shows for
// themselves.
func sameColour(t *testing.T, a, b *page) {
	t.Helper()
	for _, p := range []*page{a, b} {
		eval[chromedp.Void](p, `localStorage.setItem('collab.color', '#d81b60')`)
		p.do(chromedp.Reload())
		p.waitSaved()
	}
	// [own colour, the other person's colour] as the page shows them.
	const coloursJS = `(() => { const s = [...document.querySelectorAll('#people .swatch')];
		return s.length === 2 ? s.map((e) => getComputedStyle(e).getPropertyValue('--peer').trim()) : []; })()`
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var ca, cb []string
	if !poll.Wait(ctx, func() bool {
		ca, cb = eval[[]string](a, coloursJS), eval[[]string](b, coloursJS)
		return len(ca) == 2 && len(cb) == 2 && ca[0] != cb[0] && ca[1] == cb[0] && cb[1] == ca[0]
	}) {
		t.Fatalf("%s shows [self, other] in %q, %s in %q: want two colours, the same on both pages", a.name, ca, b.name, cb)
	}
}

// screenshot captures the page's viewport as a PNG image.
func screenshot(t *testing.T, p *page) image.Image {
	t.Helper()
	buf, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("%s: screenshot: %v", p.name, err)
	}
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		t.Fatalf("%s: decode screenshot: %v", p.name, err)
	}
	return img
}

// sideBySide puts images next to each other with a 16 px gutter and
// returns the PNG.
func sideBySide(t *testing.T, imgs ...image.Image) []byte {
	t.Helper()
	const gap = 16
	w, h := -gap, 0
	for _, im := range imgs {
		w += im.Bounds().Dx() + gap
		h = max(h, im.Bounds().Dy())
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(out, out.Bounds(), &image.Uniform{color.RGBA{0x8a, 0x90, 0x99, 0xff}}, image.Point{}, draw.Src)
	x := 0
	for _, im := range imgs {
		r := im.Bounds()
		draw.Draw(out, image.Rect(x, 0, x+r.Dx(), r.Dy()), im, r.Min, draw.Src)
		x += r.Dx() + gap
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, out); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestCursorsInLongDocument: in a document longer than the window, the
// other person's caret scrolls with the text. Scrolled to the bottom, a
// caret near the top is above the visible text, not drawn over it, and a
// caret near the bottom is drawn inside the textarea, on its line.
func TestCursorsInLongDocument(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	var b strings.Builder
	for i := 1; i <= 300; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	srv.seed(t, "long", b.String())
	pages, _ := editors(t, srv, "long", "Ann", "Bob")
	ann, bob := pages[0], pages[1]

	// [caret top, textarea top, textarea bottom, mirror scrollTop, textarea scrollTop]
	const boxJS = `(() => { const t = document.getElementById('text'), m = document.getElementById('mirror');
		const c = [...m.querySelectorAll('.peer-caret')].find((e) => e.textContent === 'Bob');
		const r = t.getBoundingClientRect();
		return c ? [c.getBoundingClientRect().top, r.top, r.bottom, m.scrollTop, t.scrollTop] : []; })()`
	for _, tc := range []struct {
		line    int
		visible bool
	}{{3, false}, {297, true}} {
		bob.caret(eval[int](bob, fmt.Sprintf(`document.getElementById('text').value.indexOf('\nline %d\n') + 1`, tc.line)))
		bob.do(typing(step{keys: "*"}))
		converge(t, srv, "long", ann, bob)
		eval[chromedp.Void](ann, `(() => { const t = document.getElementById('text'); t.focus(); t.setSelectionRange(t.value.length, t.value.length); t.scrollTop = t.scrollHeight; })()`)
		ann.waitFor(markJS("Bob")+` !== null && `+markJS("Bob")+`.endsWith("line `+strconv.Itoa(tc.line-1)+`\n*")`,
			`JSON.stringify(`+markJS("Bob")+`)`, 5*time.Second)
		// Read in one go: a redraw may take the caret out between two reads.
		ann.waitFor(fmt.Sprintf(`(() => { const b = %s; return b.length === 5 && b[3] === b[4] && b[4] > 0 && (b[0] >= b[1] && b[0] < b[2]) === %v; })()`, boxJS, tc.visible),
			fmt.Sprintf(`'Bob\'s caret on line %d (top, textarea top, bottom, scroll): ' + JSON.stringify(%s) + ', want visible = %v'`, tc.line, boxJS, tc.visible), 5*time.Second)
	}
}

// pointAtCaret points p at name's caret until its label shows, fully
// faded in. Each try finds the caret afresh: a presence update redraws
// the overlay, which replaces the caret (without "show" until the
// pointer is checked again, a task later).
func pointAtCaret(p *page, name string) {
	p.t.Helper()
	p.waitFor(`(() => { const c = [...document.querySelectorAll('#mirror .peer-caret')].find((e) => e.textContent === `+jsString(name)+`);
		if (!c) return false;
		if (!c.classList.contains('show')) {
			const r = c.getBoundingClientRect();
			collab.overlay.pointAt(r.left, r.top + r.height / 2);
			return false;
		}
		const n = c.querySelector('.peer-name');
		return n !== null && getComputedStyle(n).opacity === '1'; })()`,
		`document.getElementById('mirror').innerHTML`, 5*time.Second)
}

// saveScreenshot writes shot as the artifact name and, when
// UPDATE_SCREENSHOT is set, as docs/<docsName>, the copy README shows.
func saveScreenshot(t *testing.T, shot []byte, name, docsName string) {
	t.Helper()
	path := artifactPath(t, name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	if os.Getenv("UPDATE_SCREENSHOT") != "" {
		_, file, _, _ := goruntime.Caller(0)
		if err := os.WriteFile(filepath.Join(filepath.Dir(file), "..", "docs", docsName), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
