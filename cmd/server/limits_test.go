package main

import (
	"net/http"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/collabedit/collab/servertest"
)

// TestConnsPerAddrFlag: with -max-conns-per-addr 3 the fourth socket
// from one address is refused with 429 (a spoofed X-Forwarded-For does
// not help without -trusted-proxies), and the refusal is on /metrics.
func TestConnsPerAddrFlag(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Args: []string{"-max-conns-per-addr", "3", "-limit-loopback"}})
	for i := range 3 {
		ws, _, err := websocket.DefaultDialer.Dial(srv.URL(), http.Header{"X-Forwarded-For": {"198.51.100." + string(rune('1'+i))}})
		if err != nil {
			t.Fatalf("socket %d: %v", i+1, err)
		}
		t.Cleanup(func() { _ = ws.Close() })
	}
	_, resp, err := websocket.DefaultDialer.Dial(srv.URL(), http.Header{"X-Forwarded-For": {"198.51.100.9"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("4th socket: %v %+v; want 429 with Retry-After", err, resp)
	}
	if m := srv.Metrics(t); m["collab_conns_per_addr_refused_total"] != 1 {
		t.Fatalf("collab_conns_per_addr_refused_total %v, want 1", m["collab_conns_per_addr_refused_total"])
	}
}

// TestLimitFlagsDefaults: every limit flag defaults to hub.DefaultConfig.
func TestLimitFlagsDefaults(t *testing.T) {
	t.Parallel()
	o, err := parseFlags([]string{"-trusted-proxies", "10.0.0.0/8, fd00::/8", "-user-rate", "7"})
	if err != nil {
		t.Fatal(err)
	}
	h := o.hub
	if h.MaxConnsPerAddr != 64 || h.UserRateBurst != 8000 || h.UserInsertRate != 1<<20 || h.UserInsertBurst != 8<<20 ||
		h.MaxDocsCreatedPerHour != 100 || h.DocsCreatedWindow.Hours() != 1 || h.UserRate != 7 {
		t.Fatalf("limits %+v", h)
	}
	if len(h.TrustedProxies) != 2 || h.TrustedProxies[1].String() != "fd00::/8" {
		t.Fatalf("trusted proxies %v", h.TrustedProxies)
	}
	if _, err := parseFlags([]string{"-trusted-proxies", "10.0.0.0/99"}); err == nil {
		t.Fatal("a malformed prefix was accepted")
	}
}
