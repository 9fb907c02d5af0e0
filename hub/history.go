package hub

import "github.com/collabedit/collab/document"

// entry is one op in a room's retained history. Entries at and above the
// room's committed version are pending: handed to the store, not yet acked.
type entry struct {
	op        document.Op
	id        string
	author    string
	lenBefore int    // document length (code points) the op applied to
	frame     []byte // the "op" broadcast, encoded once when committed
	from      origin // submitter, acked on commit; zero for loaded entries
	waiters   []origin
	payload   []byte // the op's JSON, as stored and published
}

// history is the window [base, base+len(entries)) of a document's ops kept
// in memory: enough to transform a stale op and to serve a reconnect
// without reading the log.
type history struct {
	base    int64
	entries []entry
}

func (h *history) head() int64 { return h.base + int64(len(h.entries)) }

// at returns the entry for version v, which must be in the window.
func (h *history) at(v int64) *entry { return &h.entries[v-h.base] }

func (h *history) contains(v int64) bool { return v >= h.base && v < h.head() }

func (h *history) push(e entry) { h.entries = append(h.entries, e) }

// trim drops committed entries beyond keep, calling forget for each so the
// caller can drop its op-id index. Pending entries (>= committed) stay.
func (h *history) trim(keep int, committed int64, forget func(*entry)) {
	n := len(h.entries) - keep
	if limit := int(committed - h.base); n > limit {
		n = limit
	}
	if n <= 0 {
		return
	}
	for i := 0; i < n; i++ {
		forget(&h.entries[i])
		h.entries[i] = entry{} // let the GC take the op and frame
	}
	h.entries = h.entries[n:]
	h.base += int64(n)
}
