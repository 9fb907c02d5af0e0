package hub

import "sync"

// retryAfter is what a refused upgrade asks the client to wait, seconds.
const retryAfter = 10

// addrCounts counts the sockets open per client address key.
type addrCounts struct {
	mu sync.Mutex
	n  map[string]int
}

// take counts one more socket for key unless limit are open already (a
// negative limit: no limit).
func (a *addrCounts) take(key string, limit int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n == nil {
		a.n = make(map[string]int)
	}
	if limit >= 0 && a.n[key] >= limit {
		return false
	}
	a.n[key]++
	return true
}

// release counts a socket of key closed.
func (a *addrCounts) release(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n[key]--; a.n[key] <= 0 {
		delete(a.n, key)
	}
}
