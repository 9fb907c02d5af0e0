package jsonhttp

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestWrite: the status, the body as JSON and the three headers every
// API answer carries.
func TestWrite(t *testing.T) {
	rec := httptest.NewRecorder()
	Write(rec, http.StatusTeapot, map[string]any{"error": "<b>"})
	if rec.Code != http.StatusTeapot {
		t.Fatalf("status %d", rec.Code)
	}
	for k, want := range map[string]string{
		"Content-Type":           "application/json; charset=utf-8",
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if got := rec.Body.String(); got != "{\"error\":\"\\u003cb\\u003e\"}\n" {
		t.Errorf("body %q", got)
	}
}
