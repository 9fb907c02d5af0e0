package revocation_test

import (
	"context"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/collabedit/collab/auth"
	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/redisopt"
	"github.com/collabedit/collab/redistest"
	"github.com/collabedit/collab/revocation"
)

var (
	_ hub.RevocationStore = (*revocation.File)(nil)
	_ hub.RevocationStore = (*revocation.Redis)(nil)
)

// TestStores: both stores keep what was put until its Until and return
// it to a reader that starts afresh (a restart, another process).
func TestStores(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	path := filepath.Join(t.TempDir(), "revocations.json")
	// A cluster of its own: List sees every revocation on it.
	cluster := redistest.StartCluster(t, 3, 1)
	clusterClient := func() redis.UniversalClient {
		opt, err := redisopt.ParseCluster(cluster.URL())
		if err != nil {
			t.Fatal(err)
		}
		c := redis.NewClusterClient(opt)
		t.Cleanup(func() { c.Close() })
		return c
	}
	for name, pair := range map[string][2]hub.RevocationStore{
		"file":    {&revocation.File{Path: path}, &revocation.File{Path: path}},
		"redis":   {&revocation.Redis{Client: redis.NewClient(&redis.Options{Addr: rs.Addr()})}, &revocation.Redis{Client: redis.NewClient(&redis.Options{Addr: rs.Addr()})}},
		"cluster": {&revocation.Redis{Client: clusterClient()}, &revocation.Redis{Client: clusterClient()}},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			w, r := pair[0], pair[1]
			if list, err := r.List(ctx); err != nil || len(list) != 0 {
				t.Fatalf("empty store: %v, %v", list, err)
			}
			now := time.Now()
			for _, rv := range []auth.Revocation{
				{Subject: "ann", Until: now.Add(time.Hour)},
				{TokenID: "t9", Until: now.Add(time.Hour)},
				{Subject: "old", Until: now.Add(2 * time.Second)}, // seconds: the calls here take tens of ms under -race
			} {
				if err := w.Put(ctx, rv); err != nil {
					t.Fatal(err)
				}
			}
			list, err := r.List(ctx)
			if err != nil || len(list) != 3 {
				t.Fatalf("list: %v, %v", list, err)
			}
			// "old" runs out; the others stay.
			var got []string
			poll.Until(t, "the revocation of old to run out", func() bool {
				list, err = r.List(ctx)
				if err != nil {
					t.Fatal(err)
				}
				got = got[:0]
				for _, rv := range list {
					got = append(got, rv.Subject+"/"+rv.TokenID)
				}
				sort.Strings(got)
				return len(got) == 2
			})
			if got[0] != "/t9" || got[1] != "ann/" {
				t.Fatalf("after expiry: %v", got)
			}
		})
	}
}
