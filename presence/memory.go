package presence

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/collabedit/collab/protocol"
)

// errEmptySession is returned for a peer or session id that is empty.
var errEmptySession = errors.New("presence: empty session id")

// Memory is a Presence store for a single process. Entries expire by
// timestamp (the monotonic clock of this process): List never returns an
// expired peer, and expired entries are dropped lazily by Put and List.
//
// Memory is safe for concurrent use. The zero value is not usable; call
// NewMemory. Context arguments are accepted for interface compatibility
// and ignored.
type Memory struct {
	mu        sync.Mutex
	docs      map[string]map[string]memEntry // doc -> session -> entry
	nextSweep time.Time                      // when Put next prunes every document
	now       func() time.Time               // time.Now; replaceable in tests
}

type memEntry struct {
	peer    protocol.Peer
	expires time.Time
}

// NewMemory returns an empty in-process presence store.
func NewMemory() *Memory {
	return &Memory{docs: make(map[string]map[string]memEntry), now: time.Now}
}

// Put creates or replaces p's entry in doc, valid for ttl from now. The
// peer is copied: later changes to p or its Selection do not affect the
// stored entry.
func (m *Memory) Put(ctx context.Context, doc string, p protocol.Peer, ttl time.Duration) error {
	if p.Session == "" {
		return fmt.Errorf("presence: put in %q: %w", doc, errEmptySession)
	}
	if ttl <= 0 {
		return fmt.Errorf("presence: put %q in %q: ttl %v is not positive", p.Session, doc, ttl)
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	// Occasionally drop every expired entry, so documents nobody lists
	// any more (their last process died) do not leak memory.
	if !now.Before(m.nextSweep) {
		for d := range m.docs {
			m.pruneLocked(d, now)
		}
		m.nextSweep = now.Add(ttl)
	}
	peers := m.docs[doc]
	if peers == nil {
		peers = make(map[string]memEntry)
		m.docs[doc] = peers
	}
	peers[p.Session] = memEntry{peer: clonePeer(p), expires: now.Add(ttl)}
	return nil
}

// Remove deletes session's entry in doc. Removing an absent entry is not
// an error.
func (m *Memory) Remove(ctx context.Context, doc, session string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if peers := m.docs[doc]; peers != nil {
		delete(peers, session)
		if len(peers) == 0 {
			delete(m.docs, doc)
		}
	}
	return nil
}

// List returns copies of the unexpired peers of doc, sorted by Session.
// An unknown document has no peers.
func (m *Memory) List(ctx context.Context, doc string) ([]protocol.Peer, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pruneLocked(doc, now)
	peers := m.docs[doc]
	out := make([]protocol.Peer, 0, len(peers))
	for _, e := range peers {
		out = append(out, clonePeer(e.peer))
	}
	sortPeers(out)
	return out, nil
}

// pruneLocked drops doc's expired entries, and doc itself if none remain.
func (m *Memory) pruneLocked(doc string, now time.Time) {
	peers := m.docs[doc]
	for s, e := range peers {
		if !now.Before(e.expires) {
			delete(peers, s)
		}
	}
	if peers != nil && len(peers) == 0 {
		delete(m.docs, doc)
	}
}

// clonePeer returns p with its own copy of the Selection.
func clonePeer(p protocol.Peer) protocol.Peer {
	if p.Selection != nil {
		s := *p.Selection
		p.Selection = &s
	}
	return p
}

// sortPeers orders ps by Session, the order List promises.
func sortPeers(ps []protocol.Peer) {
	sort.Slice(ps, func(i, j int) bool { return ps[i].Session < ps[j].Session })
}
