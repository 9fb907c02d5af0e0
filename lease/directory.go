package lease

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// addrPrefix namespaces the advertised addresses: "collab:addr:" + process.
const addrPrefix = "collab:addr:"

// Advertise records that process serves clients at url, for ttl: the hub
// renews it well within ttl, so a dead process's address vanishes with its
// leases. Together with Locate it lets a process tell a client where a
// document's owner can be reached (protocol §15).
func (r *Redis) Advertise(ctx context.Context, process, url string, ttl time.Duration) error {
	if err := r.client.Set(ctx, addrPrefix+process, url, ttl).Err(); err != nil {
		return fmt.Errorf("lease: advertise %q: %w", process, err)
	}
	return nil
}

// Locate returns the url process advertised, or "" if it advertised none
// or it expired.
func (r *Redis) Locate(ctx context.Context, process string) (string, error) {
	url, err := r.client.Get(ctx, addrPrefix+process).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("lease: locate %q: %w", process, err)
	}
	return url, nil
}

// Advertise records that process serves clients at url, for ttl.
func (m *Memory) Advertise(ctx context.Context, process, url string, ttl time.Duration) error {
	if err := check(ctx, process); err != nil {
		return fmt.Errorf("lease: advertise: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.addrs == nil {
		m.addrs = make(map[string]memLease)
	}
	m.addrs[process] = memLease{owner: url, expires: time.Now().Add(ttl)}
	return nil
}

// Locate returns the url process advertised, or "" if none is current.
func (m *Memory) Locate(ctx context.Context, process string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("lease: locate %q: %w", process, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if a, ok := m.addrs[process]; ok && time.Now().Before(a.expires) {
		return a.owner, nil
	}
	return "", nil
}
