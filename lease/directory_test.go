package lease

import (
	"context"
	"testing"
	"time"

	"github.com/collabedit/collab/redistest"
)

// directory is hub.Directory, declared here because hub imports this
// package.
type directory interface {
	Advertise(ctx context.Context, process, url string, ttl time.Duration) error
	Locate(ctx context.Context, process string) (string, error)
}

func TestDirectory(t *testing.T) {
	t.Parallel()
	dirs := []struct {
		name string
		make func(t *testing.T) directory
	}{
		{"memory", func(t *testing.T) directory { return NewMemory(ttl) }},
		{"redis", func(t *testing.T) directory { return NewRedis(newClient(t, redistest.Start(t)), ttl) }},
		{"cluster", func(t *testing.T) directory { return newOnCluster(t, ttl) }},
	}
	for _, impl := range dirs {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d := impl.make(t)
			locate := func(process, want string) {
				t.Helper()
				got, err := d.Locate(ctx, process)
				if err != nil || got != want {
					t.Fatalf("Locate(%q) = %q, %v; want %q", process, got, err, want)
				}
			}
			locate("a", "")
			if err := d.Advertise(ctx, "a", "ws://10.0.0.1:8080/ws", ttl); err != nil {
				t.Fatal(err)
			}
			if err := d.Advertise(ctx, "b", "ws://10.0.0.2:8080/ws", time.Hour); err != nil {
				t.Fatal(err)
			}
			locate("a", "ws://10.0.0.1:8080/ws")
			locate("b", "ws://10.0.0.2:8080/ws")
			// Re-advertising replaces the address.
			if err := d.Advertise(ctx, "b", "ws://10.0.0.3:8080/ws", time.Hour); err != nil {
				t.Fatal(err)
			}
			locate("b", "ws://10.0.0.3:8080/ws")
			// An address not renewed expires with its TTL, as a dead
			// process's would.
			time.Sleep(ttl + 100*time.Millisecond) // the TTL passes, on purpose
			locate("a", "")
			locate("b", "ws://10.0.0.3:8080/ws")
		})
	}
}
