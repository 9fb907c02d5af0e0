package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/collabedit/collab/servertest"
)

const accessSecret = "e2e-access-secret-0123456789abcdef-xyz"

// authServer runs the server binary with -auth token and returns it with
// a function that mints tokens with its secret (the token subcommand).
func authServer(t *testing.T) (*servertest.Server, func(args ...string) string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(f, []byte(accessSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	// No clock-skew leeway, so that a link made to expire in a second
	// has expired a second later.
	srv := servertest.Start(t, servertest.Options{Args: []string{"-auth", "token", "-auth-secret-file", f, "-auth-leeway", "-1s"}})
	mint := func(args ...string) string {
		t.Helper()
		return servertest.Token(t, accessSecret, args...)
	}
	return srv, mint
}

// authedText reads doc's text from srv with token.
func authedText(t *testing.T, srv *servertest.Server, token, doc string) string {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(srv.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	for _, m := range []map[string]string{{"type": "auth", "token": token}, {"type": "open", "doc": doc}} {
		if err := ws.WriteJSON(m); err != nil {
			t.Fatal(err)
		}
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var m struct{ Type, Text, Code string }
		if err := ws.ReadJSON(&m); err != nil {
			t.Fatalf("read %s: %v", doc, err)
		}
		switch m.Type {
		case "snapshot":
			return m.Text
		case "error":
			t.Fatalf("read %s: %s", doc, m.Code)
		}
	}
}

// makeLink has page p (an owner) create a share link in its Share dialog.
func makeLink(p *page, role string) string {
	p.t.Helper()
	eval[chromedp.Void](p, `(() => { document.getElementById('share').click();
		document.getElementById('share-role').value = '`+role+`';
		document.getElementById('share-url').value = '';
		document.getElementById('share-make').click(); })()`)
	p.waitFor(`document.getElementById('share-url').value.includes('#token=')`,
		`document.getElementById('share-error').textContent`, 10*time.Second)
	link := eval[string](p, `document.getElementById('share-url').value`)
	eval[chromedp.Void](p, `document.getElementById('share-close').click()`)
	return link
}

// TestShareLinks: with -auth token, an owner's page (opened from a link
// the token subcommand made) shares the document from its Share dialog:
// a view link opens a page that says "View only" and cannot change the
// text, an edit link opens one that edits with the owner, each link's
// visitor shows under the name it typed, marked as a guest's, an expired
// link is refused with a message, and a hostile name in a token is shown
// as text.
func TestShareLinks(t *testing.T) {
	t.Parallel()
	srv, mint := authServer(t)
	base := "http://" + srv.Addr()
	ann := openPage(t, "Ann", mint("-sub", "ann", "-name", "Ann", "-doc", "plan:owner", "-url", base+"/d/plan"))
	ann.waitSaved()
	if h := eval[string](ann, `location.hash`); h != "" {
		t.Errorf("the token stayed in the address bar: %q", h)
	}
	if eval[string](ann, `sessionStorage.getItem('collab.token') || ''`) == "" {
		t.Error("the token was not kept in session storage")
	}
	ann.waitFor(`!document.getElementById('share').hidden`, `'share button hidden'`, 5*time.Second)
	ann.caret(0)
	ann.keys("Plan")
	ann.waitSaved()

	view := openPage(t, "Viewer", makeLink(ann, "read"))
	view.waitFor(`!document.getElementById('view-only').hidden && document.getElementById('text').readOnly && document.getElementById('text').value === 'Plan'`,
		`document.getElementById('text').value`, 10*time.Second)
	if !eval[bool](view, `document.getElementById('share').hidden`) {
		t.Error("a view link's page offers to share")
	}
	view.caret(0)
	view.keys("vandal ")
	ann.keys(" A")
	ann.waitSaved()
	view.waitFor(`document.getElementById('text').value === 'Plan A'`, `document.getElementById('text').value`, 10*time.Second)

	bob := openPage(t, "Bob", makeLink(ann, "write"))
	bob.waitSaved()
	bob.caret(-1)
	bob.keys(" and B")
	bob.waitSaved()
	ann.waitFor(`document.getElementById('text').value === 'Plan A and B'`, `document.getElementById('text').value`, 10*time.Second)
	if got := authedText(t, srv, mint("-sub", "check", "-doc", "plan:read"), "plan"); got != "Plan A and B" {
		t.Fatalf("server text %q, want %q (nothing from the view-only page)", got, "Plan A and B")
	}
	// A link's visitor names itself, and others see the name marked as a
	// guest's; one who typed no name shows the link's.
	if eval[bool](bob, `document.getElementById('name').readOnly`) {
		t.Error("a link visitor's name field is locked")
	}
	eval[chromedp.Void](bob, `(() => { const n = document.getElementById('name'); n.value = 'Bob'; n.dispatchEvent(new Event('input')); })()`)
	eval[chromedp.Void](view, `(() => { const n = document.getElementById('name'); n.value = ''; n.dispatchEvent(new Event('input')); })()`)
	people := `[...document.querySelectorAll('#people li')].map((li) => li.textContent).sort().join('|')`
	ann.waitFor(people+` === 'Ann (you)|Bob (guest)|Viewer'`, people, 10*time.Second)

	expired := mint("-sub", "link:old", "-doc", "plan:read", "-ttl", "1s", "-url", base+"/d/plan")
	time.Sleep(1500 * time.Millisecond)
	old := openPage(t, "Late", expired)
	old.waitFor(`document.getElementById('alert').textContent.includes('expired') && document.getElementById('status-long').textContent === 'No access'`,
		`document.getElementById('alert').textContent + ' / ' + document.getElementById('status-long').textContent`, 15*time.Second)

	// A token's name is the deployment's data, not markup.
	evil := `<img src=x onerror="window.pwned=1">`
	eve := openPage(t, "Eve", mint("-sub", "eve", "-name", evil, "-doc", "plan:write", "-url", base+"/d/plan"))
	eve.waitSaved()
	eve.caret(0)
	ann.waitFor(`[...document.querySelectorAll('#people li')].some((li) => li.textContent === `+jsString(evil)+`)`,
		`document.getElementById('people').textContent`, 10*time.Second)
	if n := eval[int](ann, `document.querySelectorAll('#people img, #mirror img, .peer-name img').length`); n != 0 {
		t.Errorf("%d img elements made from a name", n)
	}
	if eval[bool](ann, `window.pwned === 1`) {
		t.Error("a name ran script")
	}
	if got := eval[string](eve, `document.getElementById('name').value`); got != evil {
		t.Errorf("Eve's name field shows %q, want her token's name", got)
	}
}

// TestListNeedsAToken: the list page of a server with access control
// shows the documents the tab's token may read, and explains itself to a
// visitor without one.
func TestListNeedsAToken(t *testing.T) {
	t.Parallel()
	srv, mint := authServer(t)
	base := "http://" + srv.Addr()
	owner := mint("-sub", "ann", "-doc", "*:write")
	for _, doc := range []string{"mine", "theirs"} {
		p := openPage(t, "Writer", base+"/d/"+doc+"#token="+owner)
		p.waitSaved()
		p.keys("x")
		p.waitSaved()
	}
	list := openPage(t, "List", base+"/#token="+mint("-sub", "bob", "-doc", "mine:read"))
	list.waitFor(`[...document.querySelectorAll('#docs tbody tr')].length === 1 && document.querySelector('#docs tbody').textContent.includes('mine')`,
		`document.querySelector('#docs tbody').textContent`, 10*time.Second)
	anon := openPage(t, "Anonymous", base+"/")
	anon.waitFor(`document.getElementById('list-status').textContent.includes('only to people with a link')`,
		`document.getElementById('list-status').textContent`, 10*time.Second)
}
