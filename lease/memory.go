package lease

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Memory is an in-process hub.Leases, for a single process (where it
// always grants) and for tests.
type Memory struct {
	ttl time.Duration

	mu     sync.Mutex
	leases map[string]memLease
	addrs  map[string]memLease // process → advertised url (in owner)
}

type memLease struct {
	owner   string
	expires time.Time // monotonic, from time.Now
}

// NewMemory returns leases lasting ttl unless renewed. It panics if ttl is
// not positive, a programming error.
func NewMemory(ttl time.Duration) *Memory {
	if ttl <= 0 {
		panic(fmt.Sprintf("lease: NewMemory with ttl %v", ttl))
	}
	return &Memory{ttl: ttl, leases: make(map[string]memLease)}
}

// Acquire takes doc's lease for owner if it is free or expired, or
// extends it by TTL if owner already holds it, and returns who holds it
// now.
func (m *Memory) Acquire(ctx context.Context, doc, owner string) (holder string, err error) {
	if err := check(ctx, owner); err != nil {
		return "", fmt.Errorf("lease: acquire %q: %w", doc, err)
	}
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.leases[doc]; ok && l.owner != owner && now.Before(l.expires) {
		return l.owner, nil
	}
	m.leases[doc] = memLease{owner: owner, expires: now.Add(m.ttl)}
	return owner, nil
}

// Release gives doc's lease up if owner holds it, and does nothing
// otherwise.
func (m *Memory) Release(ctx context.Context, doc, owner string) error {
	if err := check(ctx, owner); err != nil {
		return fmt.Errorf("lease: release %q: %w", doc, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.leases[doc]; ok && l.owner == owner {
		delete(m.leases, doc)
	}
	return nil
}

// TTL is how long a lease lasts without renewal.
func (m *Memory) TTL() time.Duration { return m.ttl }

// check rejects a done ctx and an empty owner, which would be
// indistinguishable from "no holder".
func check(ctx context.Context, owner string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if owner == "" {
		return errors.New("empty owner")
	}
	return nil
}
