package e2e

import (
	"encoding/json"
	"os"
	"testing"
	"time"
)

// layoutJS measures what must not move on a phone: the bar's height and
// rows (distinct tops of its visible children), where the text and the
// list of people start, and the page's width.
const layoutJS = `JSON.stringify((() => {
	const bar = document.querySelector('.bar');
	const tops = new Set([...bar.children].filter((e) => e.offsetParent !== null && getComputedStyle(e).position !== 'absolute')
		.map((e) => Math.round(e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2)));
	return {
		barHeight: Math.round(bar.getBoundingClientRect().height),
		rows: tops.size,
		textTop: Math.round(document.getElementById('text').getBoundingClientRect().top),
		peopleBottom: Math.round(document.getElementById('people').getBoundingClientRect().bottom),
		innerHeight: window.innerHeight,
		scrollWidth: document.documentElement.scrollWidth,
		innerWidth: window.innerWidth,
	};
})())`

type phoneLayout struct {
	BarHeight, Rows, TextTop, PeopleBottom, InnerHeight, ScrollWidth, InnerWidth int
}

func (p *page) layout() phoneLayout {
	p.t.Helper()
	var l phoneLayout
	if err := json.Unmarshal([]byte(eval[string](p, layoutJS)), &l); err != nil {
		p.t.Fatal(err)
	}
	return l
}

// TestPhoneHeaderOneRow: on a 360×740 phone the editor's bar is one row,
// even with a long document name and while offline with the Retry button
// and unsaved edits; going offline and back moves none of the text; the
// people are on the first screen, above the text.
func TestPhoneHeaderOneRow(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	doc := "quarterly-planning-notes-for-the-whole-team"
	srv.seed(t, doc, "Some text to read on a phone.\n")
	pages, proxies := editors(t, srv, doc, "Ann", "Bob")
	ann := pages[0]
	ann.viewport(360, 740, true)
	ann.waitSaved()

	check := func(state string, l phoneLayout) {
		t.Helper()
		if l.Rows != 1 {
			t.Errorf("%s: the bar has %d rows, want 1: %+v", state, l.Rows, l)
		}
		if l.PeopleBottom > l.InnerHeight {
			t.Errorf("%s: the people list ends at %d px, below the %d px screen", state, l.PeopleBottom, l.InnerHeight)
		}
		if l.ScrollWidth > l.InnerWidth {
			t.Errorf("%s: the page is %d px wide on a %d px phone", state, l.ScrollWidth, l.InnerWidth)
		}
	}
	saved := ann.layout()
	check("saved", saved)
	shots := []string{}
	shoot := func(name string) {
		if os.Getenv("ARTIFACT_DIR") != "" || testing.Verbose() {
			path := artifactPath(t, "phone-header-"+name+".png")
			_ = os.WriteFile(path, sideBySide(t, screenshot(t, ann)), 0o644)
			shots = append(shots, path)
		}
	}
	shoot("saved")

	proxies[0].SetOffline(true)
	ann.waitFor(`document.getElementById('status').dataset.state === 'offline' && !document.getElementById('retry').hidden`, stateJS, 10*time.Second)
	ann.caret(-1)
	ann.keys("typed offline")
	ann.waitFor(`document.getElementById('status').textContent.includes('kept')`, stateJS, 5*time.Second)
	offline := ann.layout()
	check("offline", offline)
	if offline.BarHeight != saved.BarHeight || offline.TextTop != saved.TextTop {
		t.Errorf("going offline moved the page: saved %+v, offline %+v", saved, offline)
	}
	shoot("offline")

	proxies[0].SetOffline(false)
	ann.do()
	eval[bool](ann, `(collab.conn.retryNow(), true)`)
	ann.waitSaved()
	if back := ann.layout(); back.BarHeight != saved.BarHeight || back.TextTop != saved.TextTop {
		t.Errorf("coming back moved the page: saved %+v, back %+v", saved, back)
	}
	if len(shots) > 0 {
		t.Logf("screenshots: %v", shots)
	}
}
