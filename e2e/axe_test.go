package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core's build, vendored for the tests only
// (testdata/axe-core/README.md says where from); the server never serves it.
var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile("testdata/axe-core/axe.min.js")
	return string(b), err
})

// axeViolation is one failed axe-core rule, with a few of the elements.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeJS runs every rule axe-core 4.14 has on by default (WCAG 2.x A and
// AA and best practices) over the whole page, and keeps the serious and
// critical violations.
const axeJS = `axe.run(document, {resultTypes: ['violations']}).then((r) => r.violations
	.filter((v) => v.impact === 'serious' || v.impact === 'critical')
	.map((v) => ({id: v.id, impact: v.impact, help: v.help,
		nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' — ' + (n.failureSummary || '').replace(/\s+/g, ' '))})))`

// checkAxe injects axe-core into the page (once) and fails the test on
// every serious or critical violation it finds now.
func (p *page) checkAxe(what string) {
	p.t.Helper()
	src, err := axeSource()
	if err != nil {
		p.t.Fatalf("axe-core: %v", err)
	}
	if !eval[bool](p, `typeof window.axe === 'object'`) {
		eval[bool](p, src+"\n;true")
	}
	for _, v := range eval[[]axeViolation](p, axeJS) {
		p.t.Errorf("%s, %s: axe %s (%s): %s\n\t%s", p.name, what, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
	}
}

// colorScheme emulates the system's light or dark preference.
func (p *page) colorScheme(scheme string) {
	p.t.Helper()
	p.call(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		return err
	})
}

// TestAxeAccessibility runs axe-core on the list and the editor pages, at
// desktop and phone sizes, light and dark, with two people in the
// document and every name label shown (their contrast is a rule), and on
// the editor offline: no serious or critical violation anywhere.
func TestAxeAccessibility(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.seed(t, "axe", "First line of text.\nSecond line, where Bob is.\n")
	pages, proxies := editors(t, srv, "axe", "Ann", "Bob")
	ann, bob := pages[0], pages[1]
	bob.caret(30)
	bob.keys("!")
	ann.waitFor(`document.querySelectorAll('#mirror .peer-caret').length === 1`, stateJS, 10*time.Second)
	list := openPage(t, "list", proxies[0].URL("/"))
	list.waitFor(`document.querySelectorAll('#docs tbody tr').length === 1`, `document.body.innerText`, 10*time.Second)

	for _, scheme := range []string{"light", "dark"} {
		for _, size := range []struct {
			name string
			w, h int64
		}{{"desktop", 1024, 700}, {"phone", 360, 740}} {
			what := fmt.Sprintf("%s %s", size.name, scheme)
			for _, p := range []*page{list, ann} {
				p.colorScheme(scheme)
				p.viewport(size.w, size.h, size.name == "phone")
			}
			list.checkAxe(what)
			// Show every label, as hovering over a caret does, faded in
			// all the way (0.2 s): axe weighs colours by opacity. (Added
			// again on each try: a redraw makes new carets.)
			ann.waitFor(`(() => { const cs = [...document.querySelectorAll('#mirror .peer-caret')];
				cs.forEach((c) => c.classList.add('show'));
				return cs.length > 0 && [...document.querySelectorAll('#mirror .peer-name')].every((n) => getComputedStyle(n).opacity === '1'); })()`,
				`document.getElementById('mirror').innerHTML`, 5*time.Second)
			ann.checkAxe(what + ", labels shown")
		}
	}
	// Every palette colour as a label, in the page's real CSS.
	ann.viewport(1024, 700, false)
	for _, c := range eval[[]string](ann, `import('/identity.js').then((m) => m.PALETTE)`) {
		got := eval[[]axeViolation](ann, `(async () => {
			const { inkFor } = await import('/identity.js');
			for (const el of document.querySelectorAll('#mirror .peer-caret, #mirror .peer-name')) {
				el.style.setProperty('--peer', '`+c+`');
				el.style.setProperty('--peer-ink', inkFor('`+c+`'));
			}
			return axe.run('#mirror', {runOnly: ['color-contrast']}).then((r) => r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
				nodes: v.nodes.map((n) => n.failureSummary || '')})));
		})()`)
		for _, v := range got {
			t.Errorf("label in %s: axe %s: %s %v", c, v.ID, v.Help, v.Nodes)
		}
	}

	// The check can fail: grey on white at 2.3:1 is caught.
	eval[bool](list, `(() => { const p = document.createElement('p'); p.textContent = 'too pale'; p.style.cssText = 'color:#aaa;background:#fff'; document.querySelector('main').append(p); return true; })()`)
	found := false
	for _, v := range eval[[]axeViolation](list, axeJS) {
		found = found || v.ID == "color-contrast"
	}
	if !found {
		t.Error("axe-core did not report pale text: the check is not working")
	}

	proxies[0].SetOffline(true)
	ann.waitFor(`document.getElementById('status').dataset.state === 'offline' && !document.getElementById('retry').hidden`, stateJS, 10*time.Second)
	ann.checkAxe("phone dark, offline")
}
