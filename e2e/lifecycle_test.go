package e2e

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/collabedit/collab/servertest"
)

// TestRenameAndDelete: on the real server, Ann renames a document from
// the editor's Rename dialog: her page and Bob's show the new name, and
// so does the list. She deletes it from the Delete dialog: both pages
// stop for good (deleted, read-only, no Rename or Delete), the list no
// longer has it, and a fresh page of it says it was deleted.
func TestRenameAndDelete(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{})
	base := "http://" + srv.Addr()
	ann := openPage(t, "Ann", base+"/d/plans")
	ann.waitSaved()
	ann.caret(0)
	ann.keys("first line\nmore")
	ann.waitSaved()
	bob := openPage(t, "Bob", base+"/d/plans")
	bob.waitSaved()
	bob.waitFor(`document.getElementById('doc-name').textContent === 'first line'`,
		`document.getElementById('doc-name').textContent`, 5*time.Second)

	ann.waitFor(`!document.getElementById('rename').hidden && !document.getElementById('delete').hidden`,
		`'rename hidden: ' + document.getElementById('rename').hidden`, 5*time.Second)
	eval[chromedp.Void](ann, `document.getElementById('rename').click()`)
	ann.waitFor(`document.getElementById('rename-dialog').open && document.getElementById('rename-title').value === 'first line'`,
		`document.getElementById('rename-title').value`, 5*time.Second)
	eval[chromedp.Void](ann, `(() => { document.getElementById('rename-title').value = 'Q3 plans';
		document.getElementById('rename-form').requestSubmit(); })()`)
	for _, p := range []*page{ann, bob} {
		p.waitFor(`document.getElementById('doc-name').textContent === 'Q3 plans' && document.title.startsWith('Q3 plans')`,
			`document.getElementById('doc-name').textContent + ' / ' + document.getElementById('rename-error').textContent`, 10*time.Second)
	}
	ann.waitFor(`!document.getElementById('rename-dialog').open`, `'dialog still open'`, 5*time.Second)
	// Editing goes on after the rename, and keeps the name.
	bob.caret(0)
	bob.keys("# ")
	bob.waitSaved()
	ann.waitFor(`document.getElementById('text').value === '# first line\nmore' && document.getElementById('doc-name').textContent === 'Q3 plans'`,
		`document.getElementById('text').value`, 5*time.Second)

	list := openPage(t, "List", base+"/")
	list.waitFor(`[...document.querySelectorAll('#docs tbody tr')].some((tr) => tr.textContent.includes('plans') && tr.querySelector('.doc-title')?.textContent === 'Q3 plans')`,
		`document.querySelector('#docs tbody')?.textContent`, 10*time.Second)
	// A page opened now learns the name from the list's read model.
	carl := openPage(t, "Carl", base+"/d/plans")
	carl.waitSaved()
	carl.waitFor(`document.getElementById('doc-name').textContent === 'Q3 plans'`,
		`document.getElementById('doc-name').textContent`, 10*time.Second)

	eval[chromedp.Void](ann, `document.getElementById('delete').click()`)
	ann.waitFor(`document.getElementById('delete-dialog').open`, `'no dialog'`, 5*time.Second)
	eval[chromedp.Void](ann, `document.getElementById('delete-confirm').click()`)
	for _, p := range []*page{ann, bob, carl} {
		p.waitFor(`collab.client.status === 'deleted' && document.getElementById('text').readOnly &&
			document.getElementById('alert').textContent.includes('was deleted') &&
			document.getElementById('rename').hidden && document.getElementById('delete').hidden &&
			document.getElementById('status-long').textContent === 'This document was deleted'`,
			`[collab.client.status, document.getElementById('text').readOnly, document.getElementById('alert').textContent,
				document.getElementById('rename').hidden, document.getElementById('delete').hidden, document.getElementById('status-long').textContent].join(' / ')`, 10*time.Second)
	}
	list = openPage(t, "List again", base+"/")
	list.waitFor(`document.getElementById('list-status').textContent !== '' && ![...document.querySelectorAll('#docs tbody tr')].some((tr) => tr.textContent.includes('plans'))`,
		`document.querySelector('#docs tbody')?.textContent + ' / ' + document.getElementById('list-status').textContent`, 10*time.Second)
	late := openPage(t, "Late", base+"/d/plans")
	late.waitFor(`collab.client.status === 'deleted' && document.getElementById('alert').textContent.includes('was deleted')`,
		`collab.client.status + ' / ' + document.getElementById('alert').textContent`, 10*time.Second)
}
