package loadgen

import (
	"sync"
	"sync/atomic"
	"time"
)

const (
	// ringSize is how many versions of one document keep their send time:
	// 2 s of a hot document at 2,000 ops/s. A receiver resolving a parked
	// delivery later than that counts it as unmatched. 32 KB per document.
	ringSize = 4096
	// parkLimit is how long a delivery may wait for its author's ack
	// before it is given up as unmatched; an ack normally follows within
	// milliseconds, so only an op whose author vanished waits this long.
	parkLimit = 10 * time.Second
	// resolveEvery spaces out the scans of parked deliveries: on a hot
	// document a Go-client author, busy decoding everyone's ops, learns of
	// its ack tens of milliseconds after raw readers got the op, so each
	// reader holds dozens parked, and scanning them on every delivery took
	// 7 % of the load generator's CPU. Resolving later loses nothing: the
	// receive time is kept.
	resolveEvery = 10 * time.Millisecond
)

// stamp is the time an op was sent, since the recorder's start.
type stamp struct {
	version int64
	sent    time.Duration
}

// docStamps maps a document's recent versions to their send times. The
// author writes each slot once (on its ack); receivers read without locks.
type docStamps struct {
	ring [ringSize]atomic.Pointer[stamp]
}

func (d *docStamps) put(version int64, sent time.Duration) {
	d.ring[uint64(version)%ringSize].Store(&stamp{version: version, sent: sent})
}

func (d *docStamps) get(version int64) (time.Duration, bool) {
	s := d.ring[uint64(version)%ringSize].Load()
	if s == nil || s.version != version {
		return 0, false
	}
	return s.sent, true
}

// stampBook holds every document's stamps. Clients look their document up
// once, at start, and keep the pointer.
type stampBook struct {
	mu   sync.Mutex
	docs map[string]*docStamps
}

func newStampBook() *stampBook { return &stampBook{docs: make(map[string]*docStamps)} }

func (b *stampBook) doc(name string) *docStamps {
	b.mu.Lock()
	defer b.mu.Unlock()
	d := b.docs[name]
	if d == nil {
		d = new(docStamps)
		b.docs[name] = d
	}
	return d
}

// receiver measures remote-delivery latency for one client on one
// document: the time from the author sending an op to this client
// receiving it.
type receiver struct {
	rec   *recorder
	doc   *docStamps
	shard int

	mu       sync.Mutex // the Go client's hooks may run on more than one goroutine
	pending  []parked
	resolved time.Duration // when pending was last scanned
}

// parked is a delivery that arrived before its author's ack told when it
// was sent; it is resolved on a later delivery or by flush.
type parked struct {
	version int64
	at      time.Duration
	steady  bool
}

func newReceiver(rec *recorder, doc string, shard int) *receiver {
	return &receiver{rec: rec, doc: rec.stamps.doc(doc), shard: shard}
}

// received records that the op sequenced at version arrived now.
func (rc *receiver) received(version int64) {
	now := rc.rec.now()
	steady := rc.rec.steady.Load()
	rc.rec.delivered.Add(1)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.pending) > 0 && now-rc.resolved >= resolveEvery {
		rc.resolve(now, false)
	}
	if sent, ok := rc.doc.get(version); ok {
		rc.rec.remoteLatency(rc.shard, now-sent, steady)
		return
	}
	rc.pending = append(rc.pending, parked{version: version, at: now, steady: steady})
}

// flush resolves what can be resolved and gives up on the rest.
func (rc *receiver) flush() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.resolve(rc.rec.now(), true)
}

// resolve records parked deliveries whose send time is now known; with
// final, or after parkLimit, the others are counted as unmatched.
func (rc *receiver) resolve(now time.Duration, final bool) {
	rc.resolved = now
	keep := rc.pending[:0]
	for _, p := range rc.pending {
		if sent, ok := rc.doc.get(p.version); ok {
			rc.rec.remoteLatency(rc.shard, p.at-sent, p.steady)
			continue
		}
		if final || now-p.at > parkLimit {
			rc.rec.unmatched.Add(1)
			continue
		}
		keep = append(keep, p)
	}
	rc.pending = keep
}

// sender records an author's acks, and the send times others need.
type sender struct {
	rec   *recorder
	doc   *docStamps
	shard int
	count *atomic.Uint64 // if set, also counts this sender's acks
}

func newSender(rec *recorder, doc string, shard int) *sender {
	return &sender{rec: rec, doc: rec.stamps.doc(doc), shard: shard}
}

// acked is the Go client's OnAck: the op applied at version was sent
// latency ago. The hook runs a few microseconds after the client measured
// latency, so the send time derived here is late by as much, and remote
// latencies are understated by that amount.
func (s *sender) acked(version int64, latency time.Duration) {
	s.doc.put(version, s.rec.now()-latency)
	s.rec.opAcked(s.shard, latency)
	if s.count != nil {
		s.count.Add(1)
	}
}
