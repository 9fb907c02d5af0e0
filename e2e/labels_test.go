package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// TestNameLabelOnHover: another person's name label does not cover the
// text: it is hidden (the caret carries a small flag in the gap between
// lines) and shows while the pointer is on the caret.
func TestNameLabelOnHover(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.seed(t, "labels", "A first line of text.\nThe second line, where Bob is.\nA third line.\n")
	pages, _ := editors(t, srv, "labels", "Ann", "Bob")
	ann, bob := pages[0], pages[1]
	bob.caret(26)
	bob.keys("x")
	ann.waitFor(`[...document.querySelectorAll('#mirror .peer-caret')].some((e) => e.textContent === 'Bob')`, stateJS, 10*time.Second)
	// The overlay may be redrawing (a presence update), which takes the
	// label out for a moment: it must be there, and hidden while the
	// pointer is elsewhere, read in one go.
	const labelJS = `(() => { const e = document.querySelector('#mirror .peer-name'); return e ? getComputedStyle(e).visibility : 'absent'; })()`
	ann.waitFor(labelJS+` === 'hidden'`, labelJS+` + ' (want hidden)'`, 10*time.Second)
	move := func(x, y float64) {
		ann.call(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, input.DispatchMouseEvent, input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseMoved, X: x, Y: y})
			return err
		})
	}
	// Pointed at, measured afresh each time: a redraw (a presence update)
	// may move it between the measure and the move, or have removed it for
	// a moment (null then: measured again).
	const caretJS = `(() => { const e = document.querySelector('#mirror .peer-caret'); if (!e) return null; const r = e.getBoundingClientRect(); return [r.left, r.top + r.height / 2]; })()`
	caretAt := func() []float64 {
		t.Helper()
		for range 100 {
			ann.waitFor(`document.querySelector('#mirror .peer-caret') !== null`, stateJS, 10*time.Second)
			if at := eval[[]float64](ann, caretJS); len(at) == 2 {
				return at
			}
		}
		t.Fatal("Bob's caret keeps disappearing")
		return nil
	}
	shown := false
	for deadline := time.Now().Add(10 * time.Second); !shown && time.Now().Before(deadline); {
		at := caretAt()
		move(at[0]+30, at[1]+30)
		move(at[0]+2, at[1])
		time.Sleep(100 * time.Millisecond)
		shown = eval[string](ann, labelJS) == "visible"
	}
	if !shown {
		t.Fatalf("Bob's label did not show with the pointer on his caret at %v", caretAt())
	}
	at := caretAt()
	move(at[0]+200, at[1]+60)
	ann.waitFor(fmt.Sprintf("%s === 'hidden'", labelJS), labelJS, 5*time.Second)
}
