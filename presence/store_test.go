package presence_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/presence"
	"github.com/collabedit/collab/protocol"
	"github.com/redis/go-redis/v9"
)

// store is the hub's Presence interface, restated so the tests need not
// import hub.
type store interface {
	Put(ctx context.Context, doc string, p protocol.Peer, ttl time.Duration) error
	Remove(ctx context.Context, doc, session string) error
	List(ctx context.Context, doc string) ([]protocol.Peer, error)
}

var (
	_ store = (*presence.Memory)(nil)
	_ store = (*presence.Redis)(nil)
)

// impls returns a constructor for each implementation. The Redis ones
// share one server, started here so that it lives as long as t; the
// cluster one the test binary's shared cluster, which only this test
// uses.
func impls(t *testing.T) []struct {
	name string
	new  func(t *testing.T) store
} {
	addr := startRedis(t)
	return []struct {
		name string
		new  func(t *testing.T) store
	}{
		{"memory", func(t *testing.T) store { return presence.NewMemory() }},
		{"redis", func(t *testing.T) store { return presence.NewRedis(newRedisClient(t, addr)) }},
		{"cluster", func(t *testing.T) store { return presence.NewRedis(newClusterClient(t)) }},
	}
}

func sel(a, h int) *protocol.Selection { return &protocol.Selection{Anchor: a, Head: h} }

func mustList(t *testing.T, s store, doc string) []protocol.Peer {
	t.Helper()
	ps, err := s.List(context.Background(), doc)
	if err != nil {
		t.Fatalf("List(%q): %v", doc, err)
	}
	return ps
}

func mustPut(t *testing.T, s store, doc string, p protocol.Peer, ttl time.Duration) {
	t.Helper()
	if err := s.Put(context.Background(), doc, p, ttl); err != nil {
		t.Fatalf("Put(%q, %q): %v", doc, p.Session, err)
	}
}

func sessions(ps []protocol.Peer) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.Session)
	}
	return out
}

func TestStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Fresh document names per implementation keep the Redis cases apart.
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			t.Parallel()
			t.Run("put list update remove", func(t *testing.T) {
				s := im.new(t)
				const doc = "doc-crud"
				b := protocol.Peer{Session: "b", Name: "Bob", Color: "#00f", Version: 3}
				a := protocol.Peer{Session: "a", Name: "Ann", Color: "#e91e63", Selection: sel(1, 4), Version: 7}
				mustPut(t, s, doc, b, time.Minute)
				mustPut(t, s, doc, a, time.Minute)
				mustPut(t, s, "other-doc", protocol.Peer{Session: "c"}, time.Minute)
				if got, want := mustList(t, s, doc), []protocol.Peer{a, b}; !reflect.DeepEqual(got, want) {
					t.Fatalf("List = %+v, want %+v (sorted by session)", got, want)
				}

				a2 := a
				a2.Selection, a2.Version = sel(5, 5), 8
				mustPut(t, s, doc, a2, time.Minute)
				if got, want := mustList(t, s, doc), []protocol.Peer{a2, b}; !reflect.DeepEqual(got, want) {
					t.Fatalf("after update List = %+v, want %+v", got, want)
				}

				if err := s.Remove(ctx, doc, "a"); err != nil {
					t.Fatal(err)
				}
				if err := s.Remove(ctx, doc, "never-there"); err != nil {
					t.Fatalf("Remove of absent session: %v", err)
				}
				if got, want := mustList(t, s, doc), []protocol.Peer{b}; !reflect.DeepEqual(got, want) {
					t.Fatalf("after remove List = %+v, want %+v", got, want)
				}
				if got := sessions(mustList(t, s, "other-doc")); !reflect.DeepEqual(got, []string{"c"}) {
					t.Fatalf("other doc = %v, want [c]", got)
				}
				if err := s.Remove(ctx, doc, "b"); err != nil {
					t.Fatal(err)
				}
				if got := mustList(t, s, doc); len(got) != 0 {
					t.Fatalf("after removing all List = %+v, want empty", got)
				}
			})

			t.Run("unknown doc is empty", func(t *testing.T) {
				t.Parallel()
				s := im.new(t)
				got := mustList(t, s, "no-such-doc")
				if len(got) != 0 {
					t.Fatalf("List = %+v, want empty", got)
				}
			})

			t.Run("nil and zero selection round trip", func(t *testing.T) {
				t.Parallel()
				s := im.new(t)
				const doc = "doc-sel"
				want := []protocol.Peer{
					{Session: "caret0", Selection: sel(0, 0)},
					{Session: "nosel", Name: "N", Version: 1},
				}
				for _, p := range want {
					mustPut(t, s, doc, p, time.Minute)
				}
				if got := mustList(t, s, doc); !reflect.DeepEqual(got, want) {
					t.Fatalf("List = %+v, want %+v", got, want)
				}
			})

			t.Run("stored peer is a copy", func(t *testing.T) {
				t.Parallel()
				s := im.new(t)
				p := protocol.Peer{Session: "a", Selection: sel(1, 2)}
				mustPut(t, s, "doc-copy", p, time.Minute)
				p.Selection.Anchor = 99
				got := mustList(t, s, "doc-copy")
				if len(got) != 1 || got[0].Selection.Anchor != 1 {
					t.Fatalf("List = %+v: caller's later change leaked into the store", got)
				}
				got[0].Selection.Head = 77
				if again := mustList(t, s, "doc-copy"); again[0].Selection.Head != 2 {
					t.Fatalf("List result aliases the stored entry: %+v", again[0].Selection)
				}
			})

			t.Run("invalid put", func(t *testing.T) {
				t.Parallel()
				s := im.new(t)
				if err := s.Put(ctx, "d", protocol.Peer{}, time.Minute); err == nil {
					t.Error("Put with empty session: no error")
				}
				if err := s.Put(ctx, "d", protocol.Peer{Session: "a"}, 0); err == nil {
					t.Error("Put with zero ttl: no error")
				}
			})

			t.Run("expiry", func(t *testing.T) {
				t.Parallel()
				s := im.new(t)
				// A second: each refresh below must land within ttl*2/3 of
				// the last, round trips of tens of ms under -race included.
				const ttl = time.Second
				mustPut(t, s, "doc-exp", protocol.Peer{Session: "gone"}, ttl)
				mustPut(t, s, "doc-exp", protocol.Peer{Session: "kept"}, ttl)
				if got := sessions(mustList(t, s, "doc-exp")); !reflect.DeepEqual(got, []string{"gone", "kept"}) {
					t.Fatalf("before expiry: %v", got)
				}
				// Refresh "kept" every ttl/3 as the hub does; let "gone" lapse.
				// (The sleeps here and below are the TTL's time passing,
				// on purpose, not waits for anything.)
				for i := 0; i < 5; i++ {
					time.Sleep(ttl / 3)
					mustPut(t, s, "doc-exp", protocol.Peer{Session: "kept", Version: int64(i)}, ttl)
				}
				// 5*ttl/3 > ttl since "gone" was put.
				if got := sessions(mustList(t, s, "doc-exp")); !reflect.DeepEqual(got, []string{"kept"}) {
					t.Fatalf("after %v with refreshes: %v, want [kept]", 5*ttl/3, got)
				}
				time.Sleep(ttl + ttl/4)
				if got := mustList(t, s, "doc-exp"); len(got) != 0 {
					t.Fatalf("after ttl without refresh: %+v, want empty", got)
				}
			})

			t.Run("short ttl does not cut a long one", func(t *testing.T) {
				t.Parallel()
				s := im.new(t)
				mustPut(t, s, "doc-mixed", protocol.Peer{Session: "long"}, time.Minute)
				mustPut(t, s, "doc-mixed", protocol.Peer{Session: "short"}, 100*time.Millisecond)
				time.Sleep(250 * time.Millisecond) // the short TTL passes, on purpose
				if got := sessions(mustList(t, s, "doc-mixed")); !reflect.DeepEqual(got, []string{"long"}) {
					t.Fatalf("List = %v, want [long]", got)
				}
			})

			t.Run("concurrent use", func(t *testing.T) {
				t.Parallel()
				s := im.new(t)
				var wg sync.WaitGroup
				for g := 0; g < 8; g++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := 0; i < 20; i++ {
							sess := fmt.Sprintf("s%d-%d", g, i%3)
							if err := s.Put(ctx, "doc-conc", protocol.Peer{Session: sess, Selection: sel(i, i)}, time.Minute); err != nil {
								t.Error(err)
								return
							}
							if _, err := s.List(ctx, "doc-conc"); err != nil {
								t.Error(err)
								return
							}
							if i%3 == 2 {
								if err := s.Remove(ctx, "doc-conc", sess); err != nil {
									t.Error(err)
									return
								}
							}
						}
					}()
				}
				wg.Wait()
				// Each goroutine ends with s?-0 and s?-1 present, s?-2 removed.
				if got := len(mustList(t, s, "doc-conc")); got != 16 {
					t.Fatalf("List has %d peers, want 16", got)
				}
			})
		})
	}
}

func TestRedisTwoProcesses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		clients func(t *testing.T) (redis.UniversalClient, redis.UniversalClient)
	}{
		{"redis", func(t *testing.T) (redis.UniversalClient, redis.UniversalClient) {
			addr := startRedis(t)
			return newRedisClient(t, addr), newRedisClient(t, addr)
		}},
		{"cluster", func(t *testing.T) (redis.UniversalClient, redis.UniversalClient) {
			return newClusterClient(t), newClusterClient(t)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c1, c2 := tc.clients(t)
			twoProcesses(t, presence.NewRedis(c1), presence.NewRedis(c2))
		})
	}
}

func twoProcesses(t *testing.T, p1, p2 *presence.Redis) {
	t.Helper()
	ctx := context.Background()

	a := protocol.Peer{Session: "a", Name: "on process 1", Selection: sel(2, 3), Version: 4}
	b := protocol.Peer{Session: "b", Name: "on process 2"}
	mustPut(t, p1, "shared", a, time.Minute)
	mustPut(t, p2, "shared", b, time.Minute)
	for i, s := range []store{p1, p2} {
		if got, want := mustList(t, s, "shared"), []protocol.Peer{a, b}; !reflect.DeepEqual(got, want) {
			t.Fatalf("process %d List = %+v, want %+v", i+1, got, want)
		}
	}
	if err := p2.Remove(ctx, "shared", "a"); err != nil {
		t.Fatal(err)
	}
	if got := sessions(mustList(t, p1, "shared")); !reflect.DeepEqual(got, []string{"b"}) {
		t.Fatalf("process 1 after process 2 removed a: %v", got)
	}
}

func TestRedisKeysVanish(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	addr := startRedis(t)
	c := newRedisClient(t, addr)
	s := presence.NewRedis(c)
	// Seconds, not milliseconds: the checks below take round trips of
	// tens of ms each under -race on a busy machine.
	mustPut(t, s, "abandoned", protocol.Peer{Session: "a"}, 3*time.Second)
	mustPut(t, s, "abandoned", protocol.Peer{Session: "b"}, time.Second)
	keys, err := c.Keys(ctx, "collab:presence*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("keys = %v, want the hash and the sorted set", keys)
	}
	for _, k := range keys {
		if ttl := c.PTTL(ctx, k).Val(); ttl <= time.Second || ttl > 3*time.Second {
			t.Errorf("PTTL(%s) = %v, want the latest peer's expiry (~3s)", k, ttl)
		}
	}
	// Nobody lists the document again: Redis itself must drop the keys,
	// once their TTL (checked above) has passed.
	poll.Until(t, "Redis to drop the presence keys after every peer expired", func() bool {
		return c.Exists(ctx, keys...).Val() == 0
	})
}

func TestRedisError(t *testing.T) {
	t.Parallel()
	addr := startRedis(t)
	c := newRedisClient(t, addr)
	s := presence.NewRedis(c)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.List(ctx, "d"); err == nil {
		t.Error("List with cancelled context: no error")
	}
	c.Close()
	if err := s.Put(context.Background(), "d", protocol.Peer{Session: "a"}, time.Second); err == nil {
		t.Error("Put on closed client: no error")
	}
}

func TestPeerJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		peer protocol.Peer
		json string
	}{
		{"with selection",
			protocol.Peer{Session: "s1", Name: "Ann", Color: "#e91e63", Selection: sel(3, 7), Version: 12},
			`{"session":"s1","name":"Ann","color":"#e91e63","selection":{"anchor":3,"head":7},"version":12}`},
		{"caret at 0",
			protocol.Peer{Session: "s2", Selection: sel(0, 0)},
			`{"session":"s2","selection":{"anchor":0,"head":0},"version":0}`},
		{"without selection",
			protocol.Peer{Session: "s3", Name: "Bob", Version: 1},
			`{"session":"s3","name":"Bob","version":1}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data, err := json.Marshal(tc.peer)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != tc.json {
				t.Errorf("Marshal = %s, want %s", data, tc.json)
			}
			var back protocol.Peer
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, tc.peer) {
				t.Errorf("round trip = %+v, want %+v", back, tc.peer)
			}
		})
	}
}
