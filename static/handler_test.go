package static

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	h, err := NewHandler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

func TestRoutes(t *testing.T) {
	srv := newServer(t)
	for _, tc := range []struct {
		path   string
		status int
		ctype  string
		marker string // a string the right page contains
	}{
		{"/", 200, "text/html; charset=utf-8", `src="/list.js"`},
		{"/d/notes", 200, "text/html; charset=utf-8", `src="/editor.js"`},
		{"/d/team.plan-2025_v2", 200, "text/html; charset=utf-8", `src="/editor.js"`},
		{"/d/...", 200, "text/html; charset=utf-8", `src="/editor.js"`},
		{"/d/.a", 200, "text/html; charset=utf-8", `src="/editor.js"`},
		{"/d/" + strings.Repeat("a", 128), 200, "text/html; charset=utf-8", `src="/editor.js"`},
		{"/d/" + strings.Repeat("a", 129), 404, "text/html; charset=utf-8", "Not found"},
		{"/d/bad%20id", 404, "text/html; charset=utf-8", "Not found"},
		{"/d/caf%C3%A9", 404, "text/html; charset=utf-8", "Not found"},
		{"/d/a/b", 404, "text/html; charset=utf-8", "Not found"},
		{"/d/", 404, "text/html; charset=utf-8", "Not found"},
		{"/d/?id=no/pe", 404, "text/html; charset=utf-8", "Not found"},
		{"/d/?id=notes", 404, "text/html; charset=utf-8", "Not found"}, // the query form served only "." and ".."
		{"/d/?id=..", 404, "text/html; charset=utf-8", "Not found"},
		{"/d/%2E%2E", 404, "text/html; charset=utf-8", "Not found"},
		{"/d/%2E", 404, "text/html; charset=utf-8", "Not found"},
		{"/editor.js", 200, "text/javascript; charset=utf-8", "DocClient"},
		{"/ot.js", 200, "text/javascript; charset=utf-8", "export function transform"},
		{"/style.css", 200, "text/css; charset=utf-8", ".doc-text"},
		{"/nope.js", 404, "text/html; charset=utf-8", "Not found"},
		{"/test/client.test.mjs", 404, "text/html; charset=utf-8", "Not found"}, // tests are not shipped
	} {
		t.Run(tc.path, func(t *testing.T) {
			res, body := get(t, srv.URL+tc.path, nil)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			if ct := res.Header.Get("Content-Type"); ct != tc.ctype {
				t.Errorf("content type %q, want %q", ct, tc.ctype)
			}
			if !strings.Contains(body, tc.marker) {
				t.Errorf("body does not contain %q", tc.marker)
			}
			if res.Header.Get("Content-Security-Policy") == "" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("security headers missing: %v", res.Header)
			}
		})
	}
}

// TestRevalidation: assets carry their hash as ETag; a browser that has
// the file gets 304 with no body.
func TestRevalidation(t *testing.T) {
	srv := newServer(t)
	res, _ := get(t, srv.URL+"/client.js", nil)
	etag := res.Header.Get("ETag")
	if etag == "" || res.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("etag %q cache-control %q", etag, res.Header.Get("Cache-Control"))
	}
	res, body := get(t, srv.URL+"/client.js", map[string]string{"If-None-Match": etag})
	if res.StatusCode != http.StatusNotModified || body != "" {
		t.Fatalf("revalidation: status %d, %d bytes; want 304 and none", res.StatusCode, len(body))
	}
	res, _ = get(t, srv.URL+"/ot.js", map[string]string{"If-None-Match": etag})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("another file with the same etag: status %d, want 200", res.StatusCode)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	srv := newServer(t)
	res, err := http.Post(srv.URL+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST / = %d, want 405", res.StatusCode)
	}
}
