package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/collabedit/collab/hub"
)

// TestPasteSplitToServerLimits: the server takes frames of at most 256 KB
// and says so when the page opens the document (protocol §17), so a 600
// KB paste goes out in pieces that each fit and is saved, with no alert,
// where a page that assumed the default 1 MiB would have had it refused.
func TestPasteSplitToServerLimits(t *testing.T) {
	t.Parallel()
	srv := startServerWith(t, hub.Config{MaxMessageBytes: 256 << 10})
	srv.seed(t, "split", "start end")
	pages, proxies := editors(t, srv, "split", "Ann", "Bob")
	ann, bob := pages[0], pages[1]
	if n := eval[int](ann, `collab.client.limits.maxMessageBytes`); n != 256<<10 {
		t.Fatalf("the page believes frames may be %d bytes, want the server's %d", n, 256<<10)
	}
	chunk := strings.Repeat("z", 600<<10)
	ann.pasteInto(proxies[0].URL(""), 6, chunk)
	want := "start " + chunk + "end"
	bob.waitFor(fmt.Sprintf(`document.getElementById('text').value.length === %d`, len(want)), stateJS, 60*time.Second)
	ann.waitSaved()
	if got := converge(t, srv, "split", ann, bob); got != want {
		t.Fatalf("after the paste the text is %d bytes, want %d", len(got), len(want))
	}
	if a := eval[string](ann, alertJS); a != "" {
		t.Errorf("alert %q after a paste within the limits", a)
	}
}
