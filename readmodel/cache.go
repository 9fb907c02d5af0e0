package readmodel

import (
	"container/list"
	"sync"
)

// cacheBudget bounds what one cache holds, in cost units (code points of
// text, or runs): 16 Mi units, ~64 MiB of runes.
const cacheBudget = 16 << 20

// cache keeps the latest state of recently changed documents in memory,
// keyed by table and document, each with the version it reflects. The log
// is immutable, so the state of a document at a version never changes: an
// entry is right whatever happened to the transaction that computed it
// (rolled back, retried), and a projection uses it only when its version
// is the one the next event builds on. Least recently used entries go
// first once the budget is spent. Safe for concurrent use (a rebuild runs
// beside the serving generation).
type cache[T any] struct {
	mu     sync.Mutex
	budget int
	cost   int
	lru    *list.List // of *cacheEntry[T], most recent first
	byKey  map[cacheKey]*list.Element
}

type cacheKey struct{ table, doc string }

type cacheEntry[T any] struct {
	key     cacheKey
	version int64
	state   T
	cost    int
}

// A nil *cache caches nothing: take always misses, put drops.
func newCache[T any](budget int) *cache[T] {
	return &cache[T]{budget: budget, lru: list.New(), byKey: make(map[cacheKey]*list.Element)}
}

// take removes and returns the state of doc at version, if cached. The
// caller owns it and puts it back with put.
func (c *cache[T]) take(table, doc string, version int64) (T, bool) {
	var zero T
	if c == nil {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[cacheKey{table, doc}]
	if !ok {
		return zero, false
	}
	e := el.Value.(*cacheEntry[T])
	c.remove(el)
	if e.version != version {
		return zero, false
	}
	return e.state, true
}

// put stores the state of doc at version, evicting the least recently
// used entries beyond the budget.
func (c *cache[T]) put(table, doc string, version int64, state T, cost int) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := cacheKey{table, doc}
	if el, ok := c.byKey[key]; ok {
		c.remove(el)
	}
	if cost > c.budget {
		return
	}
	c.byKey[key] = c.lru.PushFront(&cacheEntry[T]{key: key, version: version, state: state, cost: cost})
	c.cost += cost
	for c.cost > c.budget {
		c.remove(c.lru.Back())
	}
}

func (c *cache[T]) remove(el *list.Element) {
	e := el.Value.(*cacheEntry[T])
	c.lru.Remove(el)
	delete(c.byKey, e.key)
	c.cost -= e.cost
}
