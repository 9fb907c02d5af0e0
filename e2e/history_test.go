package e2e

import (
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/collabedit/collab/servertest"
)

// TestHistoryPanelAndSearch: on the real server (query API, projector), a
// page types three words, opens History, scrubs back to the version that
// had only the first, sees what was added since marked, restores it as a
// new edit (saved, and undone by Ctrl+Z); the list page's search finds
// the document by a word in it and marks the word.
func TestHistoryPanelAndSearch(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Args: []string{"-snapshot-every", "3"}})
	base := "http://" + srv.Addr()
	p := openPage(t, "Ann", base+"/d/hist")
	p.waitSaved()
	p.caret(0)
	p.keys("one")
	p.waitSaved()
	v1 := eval[int](p, `collab.client.version`)
	for _, w := range []string{" two", " three"} {
		p.keys(w)
		p.waitSaved()
	}
	head := eval[int](p, `collab.client.version`)
	if head <= v1 {
		t.Fatalf("version %d after typing, %d after the first word", head, v1)
	}
	eval[chromedp.Void](p, `document.getElementById('history-toggle').click()`)
	p.waitFor(`document.getElementById('history-slider').max === String(collab.client.version) && document.getElementById('history-info').textContent.includes('current version')`,
		`document.getElementById('history-info').textContent`, 10*time.Second)
	// Now is shown in its authors' colours once the authorship read model
	// has caught up (it follows the log asynchronously: ask again until).
	p.waitFor(`(() => { const spans = [...document.querySelectorAll('#history-diff .by')];
		if (!spans.length) { collab.history.refresh(); return false; }
		return spans.map((e) => e.textContent).join('') === 'one two three' && document.querySelectorAll('#history-authors li').length === 1; })()`,
		`document.getElementById('history-diff').innerHTML`, 10*time.Second)
	eval[chromedp.Void](p, `(() => { const s = document.getElementById('history-slider'); s.value = String(`+strconv.Itoa(v1)+`);
		s.dispatchEvent(new Event('input')); })()`)
	p.waitFor(`document.getElementById('history-diff').textContent === 'one two three' &&
		[...document.querySelectorAll('#history-diff ins')].map((e) => e.textContent).join('') === ' two three'`,
		`document.getElementById('history-diff').innerHTML + ' / ' + document.getElementById('history-info').textContent`, 10*time.Second)
	if n := eval[int](p, `document.querySelectorAll('#history-sessions li').length`); n == 0 {
		t.Error("no editing sessions listed")
	}
	eval[chromedp.Void](p, `document.getElementById('history-restore').click()`)
	p.waitFor(`document.getElementById('text').value === 'one'`, `document.getElementById('text').value`, 5*time.Second)
	p.waitSaved()
	p.shortcut("z", modCtrl) // the restore is one step
	p.waitFor(`document.getElementById('text').value === 'one two three'`, `document.getElementById('text').value`, 5*time.Second)
	p.waitSaved()

	list := openPage(t, "List", base+"/")
	list.waitFor(`document.querySelector('#docs tbody') && document.querySelector('#docs tbody').textContent.includes('hist')`,
		`document.getElementById('list-status').textContent`, 10*time.Second)
	// The search read model follows the log asynchronously: ask until it has caught up.
	list.waitFor(`(() => { const q = document.getElementById('search-q'); q.value = 'three';
		document.getElementById('search-form').requestSubmit();
		return [...document.querySelectorAll('#search-hits li')].some((li) => li.querySelector('a').textContent === 'hist' && li.querySelector('mark')?.textContent.toLowerCase() === 'three'); })()`,
		`document.getElementById('search-status').textContent`, 15*time.Second)
}
