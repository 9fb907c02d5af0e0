package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/collabedit/collab/pgtest"
	"github.com/collabedit/collab/protocol"
	"github.com/collabedit/collab/servertest"
)

// command runs the server binary with args and returns its exit status
// and standard error.
func command(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(servertest.Binary(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), stderr.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, stderr.String()
}

// docText is a document's current text and version as a server answers.
func docText(t *testing.T, addr, doc string) (string, int64) {
	t.Helper()
	status, body := call(t, http.MethodGet, "http://"+addr+"/api/v1/docs/"+doc, "")
	if status != http.StatusOK {
		t.Fatalf("GET %s on %s: %d %s", doc, addr, status, body)
	}
	var d struct {
		Text    string
		Version int64
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	return d.Text, d.Version
}

// TestExportImportAcrossStores: a server on SQLite takes edits, a rename
// and a delete; the log is exported beside the running server, imported
// into PostgreSQL, served from there with the same texts, versions and
// deleted document, exported again and imported back into a fresh SQLite
// directory, whose dump has the same events. An import into a log that
// has events, or of an altered dump, is refused and writes nothing.
func TestExportImportAcrossStores(t *testing.T) {
	t.Parallel()
	src := servertest.Start(t, servertest.Options{Name: "sqlite"})
	ws := dialWS(t, src.URL())
	docs := map[string]string{}
	for i, doc := range []string{"alpha", "beta", "gone"} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"open","doc":"`+doc+`"}`)); err != nil {
			t.Fatal(err)
		}
		expectMsg(t, ws, protocol.TypeSnapshot)
		for v := range 30 + 10*i {
			frame := fmt.Sprintf(`{"type":"op","doc":%q,"version":%d,"id":"c:%s%d","op":[%q]}`, doc, v, doc, v, fmt.Sprint(v%10))
			if err := ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
				t.Fatal(err)
			}
			expectMsg(t, ws, protocol.TypeAck)
		}
	}
	if status, body := call(t, http.MethodPost, "http://"+src.Addr()+"/api/v1/docs/alpha/rename", `{"title":"First"}`); status != http.StatusOK {
		t.Fatalf("rename: %d %s", status, body)
	}
	if status, body := call(t, http.MethodDelete, "http://"+src.Addr()+"/api/v1/docs/gone", ""); status != http.StatusOK {
		t.Fatalf("delete: %d %s", status, body)
	}
	for _, doc := range []string{"alpha", "beta"} {
		docs[doc], _ = docText(t, src.Addr(), doc)
	}
	dir := t.TempDir()
	first := filepath.Join(dir, "first.jsonl")
	if code, out := command(t, "export", "-data", src.Dir(), "-file", first); code != 0 || !strings.Contains(out, "exported 122 events") {
		t.Fatalf("export beside the server: %d %s", code, out)
	}

	pg := pgtest.Start(t).DB(t)
	if code, out := command(t, "import", "-store", pg, "-file", first, "-snapshot-every", "10"); code != 0 || !strings.Contains(out, "imported 122 events of 3 documents") {
		t.Fatalf("import into PostgreSQL: %d %s", code, out)
	}
	if code, out := command(t, "import", "-store", pg, "-file", first); code == 0 || !strings.Contains(out, "not empty") {
		t.Fatalf("a second import into the same log: %d %s", code, out)
	}
	dst := servertest.Start(t, servertest.Options{Name: "postgres", Args: []string{"-store", pg}})
	for doc, want := range docs {
		if got, _ := docText(t, dst.Addr(), doc); got != want {
			t.Fatalf("%s served from PostgreSQL: %q, want %q", doc, got, want)
		}
	}
	if status, _ := call(t, http.MethodGet, "http://"+dst.Addr()+"/api/v1/docs/gone", ""); status != http.StatusGone {
		t.Fatalf("deleted document served from PostgreSQL: %d", status)
	}

	second := filepath.Join(dir, "second.jsonl")
	if code, out := command(t, "export", "-store", pg, "-file", second); code != 0 {
		t.Fatalf("export from PostgreSQL: %d %s", code, out)
	}
	back := t.TempDir()
	if code, out := command(t, "import", "-data", back, "-file", second); code != 0 {
		t.Fatalf("import back into SQLite: %d %s", code, out)
	}
	third := filepath.Join(dir, "third.jsonl")
	if code, out := command(t, "export", "-data", back, "-file", third); code != 0 {
		t.Fatalf("export of the copy: %d %s", code, out)
	}
	if a, b := events(t, first), events(t, third); a != b {
		t.Fatalf("the events changed on the way:\n%s\n---\n%s", a, b)
	}

	altered, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	altered = bytes.Replace(altered, []byte(`"op":["7"]`), []byte(`"op":["8"]`), 1)
	bad := filepath.Join(dir, "altered.jsonl")
	if err := os.WriteFile(bad, altered, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	if code, out := command(t, "import", "-data", empty, "-file", bad); code == 0 || !strings.Contains(out, "checksum") {
		t.Fatalf("import of an altered dump: %d %s", code, out)
	}
}

// events returns a dump's event lines without their seq, which each log
// numbers itself.
func events(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var out []string
	for _, l := range lines[1 : len(lines)-1] {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "seq")
		b, _ := json.Marshal(m)
		out = append(out, string(b))
	}
	return strings.Join(out, "\n")
}
