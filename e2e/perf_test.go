package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"
)

// stampsJS records, with Date.now() (one clock for every page of the
// browser), when this page pasted (the paste event), handled the paste's
// input, sent a frame over big bytes, received one, and had a textarea
// value of at least window.wantLen characters written (and the first task
// after that: the page writes remote ops in an animation frame's
// callback, so that is after the frame that lays the text out and
// paints it).
const stampsJS = `(() => {
	const st = window.stamps = {};
	const big = 100000;
	const ta = document.getElementById('text');
	ta.addEventListener('paste', () => { st.paste = Date.now(); }, true);
	ta.addEventListener('input', () => { if (st.paste && !st.input) setTimeout(() => { st.input = Date.now(); }, 0); });
	const ws = collab.conn._ws;
	const send = ws.send.bind(ws);
	ws.send = (d) => { if (d.length > big && !st.sent) st.sent = Date.now(); return send(d); };
	const fn = ws.onmessage;
	ws.onmessage = (ev) => {
		if (ev.data.length > big && !st.received) st.received = Date.now();
		if (st.sent && !st.acked && ev.data.includes('"type":"ack"')) st.acked = Date.now();
		const r = fn(ev);
		if (st.received && !st.parsed) st.parsed = Date.now();
		return r;
	};
	const b = collab.binding;
	for (const name of ['_catchUp', '_render']) {
		const orig = b[name].bind(b);
		b[name] = (...a) => {
			const r = orig(...a);
			if (window.wantLen && !st.written && ta.value.length >= window.wantLen) {
				st.written = Date.now();
				setTimeout(() => { st.frame = Date.now(); }, 0); // written in a frame's callback: after that frame
			}
			return r;
		};
	}
})()`

type stamps struct {
	Paste, Input, Sent, Acked, Received, Parsed, Written, Frame int64
}

// TestPaste200KBSeen: a 200 KB paste in one page is saved and shown by
// another page. The time from the paste event to the other page's
// textarea having it (and to its next frame) is logged with where it
// went (docs/benchmarks.md; the target is 1 s); the assertion is on
// correctness, and on 10 s, ten times the target.
func TestPaste200KBSeen(t *testing.T) {
	t.Parallel()
	runAlone(t)
	srv := startServer(t)
	srv.seed(t, "paste200", "start end")
	pages, proxies := editors(t, srv, "paste200", "Ann", "Bob")
	ann, bob := pages[0], pages[1]
	const size = 200 << 10
	chunk := strings.Repeat("200 KB pasted, line by line\n", size/28+1)[:size]
	want := "start " + chunk + "end"
	for _, p := range pages {
		eval[chromedp.Void](p, stampsJS)
		eval[chromedp.Void](p, fmt.Sprintf(`window.wantLen = %d`, len(want)))
	}
	// A WebSocket client of the test notes when the server forwards the
	// paste (the same clock as the pages' Date.now()).
	forwarded := make(chan int64, 1)
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+srv.addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.WriteJSON(map[string]any{"type": "open", "doc": "paste200"}); err != nil {
		t.Fatal(err)
	}
	// Opened before the paste: its snapshot comes first (a paste handled
	// before the open would come in the snapshot, not as an op).
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var m struct{ Type string }
		if err := ws.ReadJSON(&m); err != nil {
			t.Fatalf("open paste200: %v", err)
		}
		if m.Type == "snapshot" {
			break
		}
	}
	_ = ws.SetReadDeadline(time.Time{})
	go func() {
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if len(b) > 100_000 && strings.Contains(string(b[:100]), `"op"`) {
				forwarded <- time.Now().UnixMilli()
				return
			}
		}
	}()
	stopA, stopB := ann.profile("paste-ann"), bob.profile("paste-bob")
	begin := time.Now()
	ann.pasteInto(proxies[0].URL(""), 6, chunk)
	bob.waitFor(`window.stamps.frame`, stateJS, 20*time.Second)
	stopA()
	stopB()
	seen := time.Since(begin)
	a := eval[stamps](ann, `window.stamps`)
	b := eval[stamps](bob, `window.stamps`)
	var fwd int64
	select {
	case fwd = <-forwarded:
	case <-time.After(5 * time.Second):
		t.Errorf("the server did not forward the paste to a third client")
	}
	t.Logf("200 KB paste: the other page shows it %d ms after the paste event (next frame %d ms); Ann: sent +%d ms, acked +%d ms; forwarded by the server +%d ms; Bob: received +%d ms, handled +%d ms, written +%d ms; %v from the test's paste command",
		b.Written-a.Paste, b.Frame-a.Paste, a.Sent-a.Paste, a.Acked-a.Paste, fwd-a.Paste, b.Received-a.Paste, b.Parsed-a.Paste, b.Written-a.Paste, seen.Round(time.Millisecond))
	if got := converge(t, srv, "paste200", ann, bob); got != want {
		t.Fatalf("after the paste the text is %d bytes, want %d", len(got), len(want))
	}
	if a := eval[string](ann, alertJS); a != "" {
		t.Errorf("alert %q after a paste within the limits", a)
	}
}

// TestMillionCharacterDocument: a 1,000,000-character document (seeded
// through the server) opens in a page and stays editable: keys typed in
// the middle reach the screen, the server and another page. Open time,
// key-to-screen and the page's memory are logged (docs/benchmarks.md).
func TestMillionCharacterDocument(t *testing.T) {
	t.Parallel()
	runAlone(t)
	srv := startServer(t)
	const n = 1_000_000
	seed := lorem(n)
	srv.seed(t, "million", seed)
	begin := time.Now()
	ann := openPage(t, "Ann", "http://"+srv.addr+"/d/million")
	ann.waitFor(fmt.Sprintf(`window.collab && document.getElementById('status').dataset.state === 'saved' && document.getElementById('text').value.length === %d`, n),
		`document.getElementById('text').value.length`, 60*time.Second)
	// Painted: the first task after the next frame (awaited; waitFor
	// would take the promise itself as true).
	eval[bool](ann, `new Promise((r) => requestAnimationFrame(() => setTimeout(() => r(true), 0)))`)
	open := time.Since(begin)
	nav := eval[float64](ann, `performance.now()`)
	bob := openPage(t, "Bob", "http://"+srv.addr+"/d/million")
	bob.waitFor(fmt.Sprintf(`window.collab && document.getElementById('status').dataset.state === 'saved' && document.getElementById('text').value.length === %d`, n),
		`document.getElementById('text').value.length`, 60*time.Second)
	eval[chromedp.Void](ann, latencyJS)
	ann.caret(n / 2)
	const keys = "typed into a million characters "
	ctx, cancel := context.WithTimeout(ann.ctx, 2*time.Minute)
	defer cancel()
	typing := time.Now()
	for _, r := range keys {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(string(r))); err != nil {
			t.Fatalf("type: %v", err)
		}
		time.Sleep(80 * time.Millisecond)
	}
	typed := time.Since(typing)
	bob.waitFor(fmt.Sprintf(`document.getElementById('text').value.length === %d`, n+len(keys)), stateJS+`.slice(0, 300)`, 60*time.Second)
	seen := time.Since(typing)
	want := seed[:n/2] + keys + seed[n/2:]
	for _, p := range []*page{ann, bob} {
		p.waitSaved()
		if !eval[bool](p, fmt.Sprintf(`document.getElementById('text').value.slice(%d, %d) === %q`, n/2-5, n/2+len(keys)+5, want[n/2-5:n/2+len(keys)+5])) {
			t.Errorf("%s: the typed keys are not where they were typed", p.name)
		}
	}
	if got, _ := srv.text(t, "million"); got != want {
		t.Errorf("the server has %d characters, want %d", len(got), len(want))
	}
	ann.waitFor(fmt.Sprintf(`window.lat.length >= %d`, len(keys)), `JSON.stringify(window.lat.length)`, 10*time.Second)
	k50, k95, kmax := percentiles(eval[[]float64](ann, `window.lat`))
	heap := eval[float64](ann, `performance.memory ? performance.memory.usedJSHeapSize / 1048576 : -1`)
	t.Logf("1,000,000-character document: open %v (page time %.0f ms); typing %d keys took %v, all seen by the other page after %v; key-to-screen p50 %.1f ms, p95 %.1f ms, max %.1f ms; JS heap %.0f MB",
		open.Round(time.Millisecond), nav, len(keys), typed.Round(time.Millisecond), seen.Round(time.Millisecond), k50, k95, kmax, heap)
}
