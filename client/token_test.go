package client

import (
	"context"
	"crypto"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collabedit/collab/auth"
	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/protocol"
)

// TestTokenRefresh: against a server that checks access, the client
// authenticates on connecting and, warned before its 3-second tokens
// expire, presents fresh ones on the same connection: it edits for
// longer than several token lifetimes without being disconnected.
func TestTokenRefresh(t *testing.T) {
	t.Parallel()
	secret := []byte("client-test-secret-0123456789abcdef-01")
	srv := startServer(t, hub.Config{ExpiryWarning: 2 * time.Second, Auth: &auth.Tokens{Verifier: &auth.Verifier{
		Keys: auth.Keys{Secret: secret, Public: map[string]crypto.PublicKey{}}}}})
	m := &auth.Minter{Secret: secret}
	var minted atomic.Int32
	rec := newRecorder()
	cfg := Config{URL: srv.URL, Token: func(context.Context) (string, error) {
		minted.Add(1)
		return m.Mint(auth.Identity{Subject: "bot", Grants: auth.Grants{"log": auth.Write}}, 3*time.Second)
	}}
	rec.hook(&cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d, err := c.Open(ctx, "log")
	if err != nil {
		t.Fatal(err)
	}
	want := ""
	for end := time.Now().Add(7 * time.Second); time.Now().Before(end); {
		if err := d.Insert(len(want), "x"); err != nil {
			t.Fatal(err)
		}
		want += "x"
		time.Sleep(100 * time.Millisecond)
	}
	if err := d.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	if d.Text() != want {
		t.Fatalf("text %q, want %d x", d.Text(), len(want))
	}
	rec.mu.Lock()
	drops := rec.drops
	rec.mu.Unlock()
	if len(drops) != 0 {
		t.Fatalf("disconnected: %v", drops)
	}
	if n := minted.Load(); n < 3 {
		t.Fatalf("%d tokens minted in 7 s of 3-second tokens; the client did not refresh", n)
	}
	evs, err := srv.Store.Events(ctx, "log", 0, 1)
	if err != nil || len(evs) != 1 || evs[0].Author != "bot" {
		t.Fatalf("first event %+v, %v: want author bot", evs, err)
	}
}

// TestTokenRefreshRefusedNotRetried: a refresh the server refuses (a token
// for another user) is not retried in a loop; the connection keeps its
// token until it expires.
func TestTokenRefreshRefusedNotRetried(t *testing.T) {
	t.Parallel()
	secret := []byte("client-test-secret-0123456789abcdef-02")
	// Tokens last 20 s and the warning comes 19.5 s before expiry, so the
	// warning arrives at once (exp is whole seconds: 19-20 s away) and no
	// token expires during the test even on a loaded machine.
	srv := startServer(t, hub.Config{ExpiryWarning: 19500 * time.Millisecond, Auth: &auth.Tokens{Verifier: &auth.Verifier{
		Keys: auth.Keys{Secret: secret}}}})
	m := &auth.Minter{Secret: secret}
	var minted, refused atomic.Int32
	cfg := Config{URL: srv.URL, Token: func(context.Context) (string, error) {
		sub := "bot"
		if minted.Add(1) > 1 {
			sub = "other" // every refresh names another user: refused
		}
		return m.Mint(auth.Identity{Subject: sub, Grants: auth.Grants{"*": auth.Write}}, 20*time.Second)
	}, OnError: func(doc string, err error) {
		var pe *protocol.Error
		if doc == "" && errors.As(err, &pe) && pe.Code == protocol.CodeUnauth {
			refused.Add(1)
		}
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Open(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	// The warning, then the refresh's refusal: two unauthorized errors.
	poll.Until(t, "the warning and the refusal", func() bool { return refused.Load() >= 2 })
	// A loop would ask again within milliseconds; give it a second.
	time.Sleep(time.Second)
	if n := minted.Load(); n != 2 {
		t.Fatalf("%d tokens asked for; want the first and one refresh", n)
	}
	if n := refused.Load(); n != 2 {
		t.Fatalf("%d unauthorized errors; want the warning and one refusal", n)
	}
}
