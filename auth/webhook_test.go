package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// hook starts an endpoint that answers with answer(request) after delay.
func hook(t *testing.T, delay time.Duration, answer func(map[string]string) (int, any)) (*Webhook, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var req map[string]string
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || r.Method != http.MethodPost {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		code, body := answer(req)
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(srv.Close)
	return &Webhook{URL: srv.URL, Timeout: 300 * time.Millisecond}, &calls
}

func TestWebhook(t *testing.T) {
	ctx := context.Background()
	w, calls := hook(t, 0, func(req map[string]string) (int, any) {
		switch {
		case req["token"] == "ann-token" && req["doc"] == "":
			return 200, WebhookAnswer{Allow: true, Subject: "ann", Name: "Ann", CacheSeconds: 60}
		case req["token"] == "ann-token" && req["doc"] == "notes":
			return 200, WebhookAnswer{Allow: true, Subject: "ann", Role: "write", CacheSeconds: 60}
		case req["token"] == "ann-token":
			return 200, WebhookAnswer{Allow: false, Reason: "not shared with you", CacheSeconds: 60}
		case req["token"] == "nocache":
			return 200, WebhookAnswer{Allow: true, Subject: "x", Role: "read"}
		case req["token"] == "visitor":
			return 200, WebhookAnswer{Allow: true, Subject: "v7", Name: "Guest", Guest: true}
		case req["token"] == "nosub":
			return 200, WebhookAnswer{Allow: true, Role: "read"}
		case req["token"] == "badrole":
			return 200, WebhookAnswer{Allow: true, Subject: "x", Role: "admin"}
		case req["token"] == "boom":
			return 500, "oops"
		}
		return 200, WebhookAnswer{Allow: false, Reason: "unknown token"}
	})
	id, err := w.Authenticate(ctx, "ann-token", "10.0.0.1:5555")
	if err != nil || id.Subject != "ann" || id.Name != "Ann" || id.Guest {
		t.Fatalf("authenticate: %+v, %v", id, err)
	}
	if g, err := w.Authenticate(ctx, "visitor", "10.0.0.1:5555"); err != nil || !g.Guest || g.Subject != "v7" {
		t.Fatalf("authenticate a guest: %+v, %v", g, err)
	}
	if r, err := w.Authorize(ctx, id, "ann-token", "notes", "10.0.0.1:5555"); err != nil || r != Write {
		t.Fatalf("authorize notes: %v, %v", r, err)
	}
	if _, err := w.Authorize(ctx, id, "ann-token", "secret", "10.0.0.1:5555"); !errors.Is(err, ErrDenied) {
		t.Fatalf("authorize secret: %v, want ErrDenied", err)
	}
	// Cached: the same questions from another socket of the same address
	// cost nothing; from another address they are asked again.
	n := calls.Load()
	_, _ = w.Authenticate(ctx, "ann-token", "10.0.0.1:6666")
	_, _ = w.Authorize(ctx, id, "ann-token", "notes", "10.0.0.1:6666")
	_, _ = w.Authorize(ctx, id, "ann-token", "secret", "10.0.0.1:6666")
	if calls.Load() != n {
		t.Fatalf("%d calls for cached answers", calls.Load()-n)
	}
	_, _ = w.Authorize(ctx, id, "ann-token", "notes", "10.0.0.2:1")
	if calls.Load() != n+1 {
		t.Fatalf("another address: %d calls, want 1", calls.Load()-n)
	}
	// cacheSeconds 0: asked every time.
	n = calls.Load()
	for range 2 {
		if _, err := w.Authorize(ctx, nil, "nocache", "d", "r"); err != nil {
			t.Fatal(err)
		}
	}
	if calls.Load() != n+2 {
		t.Fatalf("uncached: %d calls, want 2", calls.Load()-n)
	}
	// Failures fail closed with ErrUnavailable.
	for _, tok := range []string{"nosub", "boom"} {
		if _, err := w.Authenticate(ctx, tok, "r"); !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUnavailable", tok, err)
		}
	}
	if _, err := w.Authorize(ctx, nil, "badrole", "d", "r"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("bad role: %v, want ErrUnavailable", err)
	}
	if _, err := w.Authenticate(ctx, "", "r"); !errors.Is(err, ErrNoToken) {
		t.Errorf("no token: %v", err)
	}
}

func TestWebhookTimeoutFailsClosed(t *testing.T) {
	w, _ := hook(t, 2*time.Second, func(map[string]string) (int, any) {
		return 200, WebhookAnswer{Allow: true, Subject: "late"}
	})
	start := time.Now()
	_, err := w.Authenticate(context.Background(), "tok", "r")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("gave up after %v; the timeout is 300 ms", d)
	}
	// An unreachable endpoint, too.
	w2 := &Webhook{URL: "http://127.0.0.1:1/auth", Timeout: 300 * time.Millisecond}
	if _, err := w2.Authenticate(context.Background(), "tok", "r"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("unreachable: %v", err)
	}
}

func TestWebhookCacheExpires(t *testing.T) {
	now := time.Unix(1000, 0)
	w, calls := hook(t, 0, func(map[string]string) (int, any) {
		return 200, WebhookAnswer{Allow: true, Subject: "s", Role: "read", CacheSeconds: 3600}
	})
	w.Now = func() time.Time { return now }
	w.MaxCache = 10 * time.Second // caps the hour asked for
	for range 3 {
		if _, err := w.Authorize(context.Background(), nil, "t", "d", "r"); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(11 * time.Second)
	_, _ = w.Authorize(context.Background(), nil, "t", "d", "r")
	if got := calls.Load(); got != 2 {
		t.Fatalf("%d calls, want 2 (one, then one after MaxCache)", got)
	}
	if w.Calls() != 2 {
		t.Fatalf("Calls() = %d", w.Calls())
	}
}
