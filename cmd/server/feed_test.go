package main

import (
	"bufio"
	"net/http"
	"strings"
	"testing"

	"github.com/collabedit/collab/servertest"
)

// TestChangeFeedAndCommandsTokenMode: on the real server in token mode,
// ops submitted over POST /api/v1/docs/{doc}/ops appear on the change
// feed, which shows a token only the documents it may read; a read-only
// token may not submit, and both endpoints want a token.
func TestChangeFeedAndCommandsTokenMode(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Args: []string{"-auth", "token", "-auth-secret-file", secretFile(t),
		"-feed-heartbeat", "50ms", "-feed-poll", "10ms"}})
	base := "http://" + srv.Addr()
	owner := mint(t, "-sub", "ann", "-doc", "plan:owner", "-doc", "notes:write")
	reader := mint(t, "-sub", "bob", "-doc", "notes:read")
	do := func(method, path, token, body string) *http.Response {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	status := func(method, path, token, body string) int {
		res := do(method, path, token, body)
		res.Body.Close()
		return res.StatusCode
	}
	if c := status(http.MethodPost, "/api/v1/docs/plan/ops", owner, `{"version":0,"id":"a:1","op":["hi"]}`); c != 200 {
		t.Fatalf("owner op on plan: %d", c)
	}
	if c := status(http.MethodPost, "/api/v1/docs/notes/ops", owner, `{"version":0,"id":"a:2","op":["yo"]}`); c != 200 {
		t.Fatalf("owner op on notes: %d", c)
	}
	if c := status(http.MethodPost, "/api/v1/docs/plan/ops", owner, `{"version":1,"id":"a:3","op":[2,"!"]}`); c != 200 {
		t.Fatalf("second op on plan: %d", c)
	}
	if c := status(http.MethodPost, "/api/v1/docs/notes/ops", reader, `{"version":1,"id":"b:1","op":["x"]}`); c != http.StatusForbidden {
		t.Errorf("reader op: %d, want 403", c)
	}
	if c := status(http.MethodPost, "/api/v1/docs/notes/ops", "", `{"version":1,"id":"b:1","op":["x"]}`); c != http.StatusUnauthorized {
		t.Errorf("op without a token: %d, want 401", c)
	}
	if c := status(http.MethodGet, "/api/v1/changes", "", ""); c != http.StatusUnauthorized {
		t.Errorf("feed without a token: %d, want 401", c)
	}
	read := func(token string) []string {
		res := do(http.MethodGet, "/api/v1/changes", token, "")
		defer res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("feed: %d", res.StatusCode)
		}
		var ids []string
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			line := sc.Text()
			if line == ": heartbeat" {
				return ids
			}
			if strings.HasPrefix(line, "data: ") {
				ids = append(ids, line[strings.Index(line, `"doc":`):strings.Index(line, `,"version"`)])
			}
		}
		t.Fatalf("feed ended: %v", sc.Err())
		return nil
	}
	if got := strings.Join(read(owner), " "); got != `"doc":"plan" "doc":"notes" "doc":"plan"` {
		t.Errorf("owner's feed: %s", got)
	}
	if got := strings.Join(read(reader), " "); got != `"doc":"notes"` {
		t.Errorf("reader's feed: %s, want notes only", got)
	}
}
