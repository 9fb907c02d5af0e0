package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Webhook asks an HTTP endpoint of the deployment whether a token may
// use a document: it POSTs {"token", "doc", "remote"} as JSON and reads
// {"allow", "role", "sub", "name", "cacheSeconds", "reason"}. doc is ""
// when a connection authenticates, before it opens anything: the answer
// then says who the token is (allow, sub, name) and its role is unused.
//
// Any failure — a timeout, a status other than 200, an answer that does
// not parse or allows without a sub — fails closed with ErrUnavailable;
// "allow": false is ErrDenied. Answers are cached per token, document and
// remote address for cacheSeconds (at most MaxCache), denials included,
// so a page that reopens a document does not cost a call each time.
type Webhook struct {
	URL string
	// Timeout bounds each call; zero means DefaultWebhookTimeout.
	Timeout time.Duration
	// MaxCache caps an answer's cacheSeconds; zero means 5 minutes.
	MaxCache time.Duration
	// Client makes the calls; nil means a client of its own.
	Client *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu    sync.Mutex
	cache map[webhookKey]webhookEntry
	calls int64
}

// DefaultWebhookTimeout bounds a webhook call when Webhook.Timeout is zero:
// an open waits for it, so it must be short; a slower service fails closed.
const DefaultWebhookTimeout = 2 * time.Second

// WebhookAnswer is the endpoint's answer.
type WebhookAnswer struct {
	Allow        bool   `json:"allow"`
	Role         string `json:"role,omitempty"` // read, write or owner; for a document
	Subject      string `json:"sub,omitempty"`
	Name         string `json:"name,omitempty"`
	CacheSeconds int    `json:"cacheSeconds,omitempty"`
	Reason       string `json:"reason,omitempty"` // shown to the user on a denial
	Guest        bool   `json:"guest,omitempty"`  // Identity.Guest
}

type webhookKey struct{ token, doc, host string }

type webhookEntry struct {
	ans   WebhookAnswer
	until time.Time
}

// maxCacheEntries bounds the cache: past it, expired entries are dropped
// and, if that is not enough, all of them (a burst of distinct tokens
// must not grow memory without bound).
const maxCacheEntries = 10000

// Calls returns how many calls reached the endpoint (for tests and
// metrics).
func (w *Webhook) Calls() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls
}

// Authenticate asks who token is.
func (w *Webhook) Authenticate(ctx context.Context, token, remote string) (*Identity, error) {
	a, err := w.Check(ctx, token, "", remote)
	if err != nil {
		return nil, err
	}
	return &Identity{Subject: a.Subject, Name: a.Name, Guest: a.Guest}, nil
}

// Authorize asks what token may do with doc.
func (w *Webhook) Authorize(ctx context.Context, _ *Identity, token, doc, remote string) (Role, error) {
	a, err := w.Check(ctx, token, doc, remote)
	if err != nil {
		return None, err
	}
	r, err := ParseRole(a.Role)
	if err != nil {
		return None, fmt.Errorf("%w: webhook allowed %q with %w", ErrUnavailable, doc, err)
	}
	return r, nil
}

// Check returns the endpoint's answer for token, doc and remote, from the
// cache when it is fresh. A denial is ErrDenied wrapped with the reason.
func (w *Webhook) Check(ctx context.Context, token, doc, remote string) (WebhookAnswer, error) {
	if token == "" {
		return WebhookAnswer{}, ErrNoToken
	}
	key := webhookKey{token, doc, hostOf(remote)}
	now := w.now()
	w.mu.Lock()
	e, ok := w.cache[key]
	w.mu.Unlock()
	if !ok || !now.Before(e.until) {
		a, err := w.call(ctx, token, doc, remote)
		if err != nil {
			return WebhookAnswer{}, err
		}
		e = webhookEntry{ans: a, until: now.Add(min(time.Duration(a.CacheSeconds)*time.Second, w.maxCache()))}
		w.store(key, e, now)
	}
	if !e.ans.Allow {
		return e.ans, fmt.Errorf("%w: %s", ErrDenied, e.ans.Reason)
	}
	return e.ans, nil
}

func (w *Webhook) call(ctx context.Context, token, doc, remote string) (WebhookAnswer, error) {
	timeout := w.Timeout
	if timeout <= 0 {
		timeout = DefaultWebhookTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body, _ := json.Marshal(map[string]string{"token": token, "doc": doc, "remote": remote})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return WebhookAnswer{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/json")
	w.mu.Lock()
	w.calls++
	w.mu.Unlock()
	resp, err := w.client().Do(req)
	if err != nil {
		return WebhookAnswer{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return WebhookAnswer{}, fmt.Errorf("%w: webhook answered %s", ErrUnavailable, resp.Status)
	}
	var a WebhookAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&a); err != nil {
		return WebhookAnswer{}, fmt.Errorf("%w: webhook answer: %w", ErrUnavailable, err)
	}
	if a.Allow && a.Subject == "" {
		return WebhookAnswer{}, fmt.Errorf("%w: webhook allowed without a sub", ErrUnavailable)
	}
	return a, nil
}

func (w *Webhook) store(k webhookKey, e webhookEntry, now time.Time) {
	if !now.Before(e.until) {
		return // cacheSeconds 0: not cached
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cache == nil {
		w.cache = map[webhookKey]webhookEntry{}
	}
	if len(w.cache) >= maxCacheEntries {
		for k, old := range w.cache {
			if !now.Before(old.until) {
				delete(w.cache, k)
			}
		}
		if len(w.cache) >= maxCacheEntries {
			clear(w.cache)
		}
	}
	w.cache[k] = e
}

func (w *Webhook) client() *http.Client {
	if w.Client != nil {
		return w.Client
	}
	return http.DefaultClient // each call carries its own timeout
}

func (w *Webhook) maxCache() time.Duration {
	if w.MaxCache > 0 {
		return w.MaxCache
	}
	return 5 * time.Minute
}

func (w *Webhook) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// hostOf drops the port of a remote address, so that answers are cached
// per client address, not per socket.
func hostOf(remote string) string {
	if h, _, err := net.SplitHostPort(remote); err == nil {
		return h
	}
	return remote
}
