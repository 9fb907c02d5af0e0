package hub

import (
	"time"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/protocol"
)

// entry is one op in a room's retained history. Entries at and above the
// room's committed version are pending: handed to the store, not yet
// answered, or answered out of order and waiting for the ones before.
type entry struct {
	op        document.Op
	id        string
	author    string
	lenBefore int    // document length (code points) the op applied to
	frame     []byte // the "op" broadcast, encoded once when committed
	from      origin // submitter, acked on commit; zero for loaded entries
	waiters   []origin
	payload   []byte              // the op's JSON, as stored and published; nil once committed
	life      *protocol.Lifecycle // a lifecycle event (§19) with the identity op; nil for an edit

	// pending entries only
	at       time.Time // handed to the store
	told     bool      // its origins were told it timed out (CommitTimeout)
	answered bool      // the store's answer came: err, nil when committed
	err      error
}

// cost is what the entry holds in memory, in bytes: the encoded frame and
// payload plus the op's inserted text. It is what HistoryBytes bounds.
func (e *entry) cost() int {
	return len(e.frame) + len(e.payload) + 2*insertedBytes(e.op)
}

// insertedBytes is the UTF-8 size of the text op inserts.
func insertedBytes(op document.Op) int {
	n := 0
	for _, c := range op {
		n += len(c.Insert)
	}
	return n
}

// history is the window [base, base+len(entries)) of a document's ops kept
// in memory: enough to transform a stale op and to serve a reconnect
// without reading the log. It is bounded by count and by bytes, so a few
// 900 KB pastes cannot make it hold a thousand of them (1.8 GB measured).
type history struct {
	base    int64
	entries []entry
	bytes   int // sum of the committed entries' cost
}

func (h *history) head() int64 { return h.base + int64(len(h.entries)) }

// at returns the entry for version v, which must be in the window.
func (h *history) at(v int64) *entry { return &h.entries[v-h.base] }

func (h *history) contains(v int64) bool { return v >= h.base && v < h.head() }

func (h *history) push(e entry) { h.entries = append(h.entries, e) }

// committed counts an entry that just committed (or was loaded) towards
// the byte bound; pending ones are bounded by Config.MaxPendingBytes.
func (h *history) committed(e *entry) { h.bytes += e.cost() }

// trim drops the oldest committed entries while more than keep are held
// or they cost more than keepBytes, calling forget for each so the caller
// can drop its op-id index. Pending entries (>= committed) always stay,
// and so does the newest committed one, which the next op names as its
// predecessor.
func (h *history) trim(keep, keepBytes int, committed int64, forget func(*entry)) {
	limit := int(committed-h.base) - 1
	n := 0
	for n < limit && (len(h.entries)-n > keep || h.bytes > keepBytes) {
		e := &h.entries[n]
		h.bytes -= e.cost()
		forget(e)
		*e = entry{} // let the GC take the op and frame
		n++
	}
	if n == 0 {
		return
	}
	// Copy the survivors down once the dead prefix is large, so the
	// backing array does not keep every trimmed slot alive forever.
	h.entries = h.entries[n:]
	h.base += int64(n)
	if cap(h.entries) > 2*len(h.entries)+64 {
		h.entries = append(make([]entry, 0, len(h.entries)+len(h.entries)/4), h.entries...)
	}
}
