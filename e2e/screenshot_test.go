package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// planNotes is Markdown as people write it in a plain-text document.
const planNotes = "# Launch plan\n\nWe ship the **browser client** on Friday.\n\n## Open questions\n\n- Who owns the docs?\n- Do we need [a changelog](https://example.com/changes)?\n\n## Decisions\n\n1. Markdown preview beside the text\n2. Download as `.md`\n"

// TestScreenshotMarkdownTwoPeople: Ann writes with the Markdown preview
// open beside the text while Bob, on a second page, selects a line and
// types a decision. Ann's preview shows Bob's words rendered, her page
// shows his caret, and his shows her selection; the two pages side by
// side are the README's screenshot (UPDATE_SCREENSHOT=1 refreshes
// docs/screenshot-markdown.png).
func TestScreenshotMarkdownTwoPeople(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.seed(t, "plan", planNotes)
	pages, _ := editors(t, srv, "plan", "Ann", "Bob")
	ann, bob := pages[0], pages[1]
	ann.viewport(1180, 560, false) // wide: the preview sits beside the text
	bob.viewport(700, 560, false)
	eval[chromedp.Void](ann, `document.getElementById('preview-toggle').click()`)
	ann.waitFor(`document.querySelector('#preview-body h1')?.textContent === 'Launch plan'`, previewJS, 5*time.Second)

	// Ann selects "Who owns the docs?"; Bob adds a decision at the end.
	start := strings.Index(planNotes, "Who owns")
	eval[chromedp.Void](ann, `(() => { const ta = document.getElementById('text'); ta.focus();
		ta.setSelectionRange(`+strconv.Itoa(start)+`, `+strconv.Itoa(start+len("Who owns the docs?"))+`); })()`)
	bob.caret(-1)
	bob.do(typing(step{keys: "3. Bob writes the release notes"}))
	want := planNotes + "3. Bob writes the release notes"
	converge(t, srv, "plan", ann, bob)

	ann.waitFor(`[...document.querySelectorAll('#preview-body ol > li')].some((li) => li.textContent === 'Bob writes the release notes')`,
		previewJS, 5*time.Second)
	ann.waitFor(markJS("Bob")+` === `+jsString(want), `JSON.stringify(`+markJS("Bob")+`)`, 5*time.Second)
	bob.waitFor(`[...document.querySelectorAll('#mirror .peer-sel')].map((e) => e.textContent).join('') === 'Who owns the docs?'`,
		`document.getElementById('mirror').innerHTML`, 5*time.Second)
	for _, p := range pages {
		p.waitFor(`document.querySelectorAll('#people li').length === 2`, `document.getElementById('people').textContent`, 5*time.Second)
	}

	// Ann points at Bob's caret, which shows his name.
	pointAtCaret(ann, "Bob")

	saveScreenshot(t, sideBySide(t, screenshot(t, ann), screenshot(t, bob)), "markdown-two-people.png", "screenshot-markdown.png")
}
