package soak

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// ackRecord is the first acknowledgement of an op id.
type ackRecord struct {
	version int64
	who     string
}

// ledger is every op id any client was acknowledged for, by document, and
// the ids whose fate no client learned (a probe that gave up): the account
// the shared log must match. Safe for concurrent use.
type ledger struct {
	mu        sync.Mutex
	acked     map[string]map[string]ackRecord // doc → op id → first ack
	unsettled map[string]map[string]string    // doc → op id → who sent it
}

func newLedger() *ledger {
	return &ledger{acked: make(map[string]map[string]ackRecord), unsettled: make(map[string]map[string]string)}
}

// ack records that who was acknowledged op id of doc at version v. An id
// acknowledged again at another version breaks §4's promise that a resend
// is answered with the original version.
func (l *ledger) ack(found *findings, who, doc, id string, v int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := l.acked[doc]
	if ids == nil {
		ids = make(map[string]ackRecord)
		l.acked[doc] = ids
	}
	first, seen := ids[id]
	if !seen {
		ids[id] = ackRecord{version: v, who: who}
		delete(l.unsettled[doc], id)
		return
	}
	if first.version != v {
		found.add(checkAckVersion, who, doc, "op %s acknowledged at version %d, but %s had it acknowledged at %d",
			id, v, first.who, first.version)
	}
}

// unsettle records an op id sent by who whose answer never came: it may
// or may not be in the log.
func (l *ledger) unsettle(who, doc, id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, acked := l.acked[doc][id]; acked {
		return
	}
	if l.unsettled[doc] == nil {
		l.unsettled[doc] = make(map[string]string)
	}
	l.unsettled[doc][id] = who
}

// total returns how many distinct op ids were acknowledged.
func (l *ledger) total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, ids := range l.acked {
		n += len(ids)
	}
	return n
}

// account returns copies of doc's acknowledged and unsettled ids.
func (l *ledger) account(doc string) (acked map[string]ackRecord, unsettled map[string]string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	acked = make(map[string]ackRecord, len(l.acked[doc]))
	for id, r := range l.acked[doc] {
		acked[id] = r
	}
	unsettled = make(map[string]string, len(l.unsettled[doc]))
	for id, who := range l.unsettled[doc] {
		unsettled[id] = who
	}
	return acked, unsettled
}

// reconciliation is how one document's log compares with the ledger.
type reconciliation struct {
	events, acked int
	lost          []string // acknowledged, not in the log
	misplaced     []string // in the log at another version than acknowledged
	doubled       []string // in the log, never acknowledged to anyone
}

// reconcile compares doc's log with what clients were acknowledged.
// unsynced are the client ids (op id prefixes) of clients that were still
// waiting for an answer when editing was over: each may have one op in
// the log that it was not yet acknowledged for, its op in flight.
// Any other event no client was acknowledged for is an op applied twice
// (resent under a new id) or from nowhere.
func reconcile(log docLog, acked map[string]ackRecord, unsettled map[string]string, unsynced map[string]bool) reconciliation {
	r := reconciliation{events: len(log.events), acked: len(acked)}
	at := make(map[string]int64, len(log.events))
	for _, ev := range log.events {
		if v, dup := at[ev.id]; dup {
			r.doubled = append(r.doubled, fmt.Sprintf("op %s is in the log at versions %d and %d", ev.id, v, ev.version))
		}
		at[ev.id] = ev.version
	}
	for _, id := range sortedKeys(acked) {
		rec := acked[id]
		v, ok := at[id]
		switch {
		case !ok:
			r.lost = append(r.lost, fmt.Sprintf("op %s acknowledged to %s at version %d is not in the log (head %d)", id, rec.who, rec.version, log.version))
		case v != rec.version:
			r.misplaced = append(r.misplaced, fmt.Sprintf("op %s acknowledged to %s at version %d is at version %d in the log", id, rec.who, rec.version, v))
		}
	}
	inFlight := make(map[string]int) // unsynced client → its unacknowledged events
	for _, ev := range log.events {
		if _, ok := acked[ev.id]; ok {
			continue
		}
		if _, ok := unsettled[ev.id]; ok {
			continue
		}
		if author := authorOf(ev.id); unsynced[author] && inFlight[author] == 0 {
			inFlight[author]++
			continue
		}
		r.doubled = append(r.doubled, fmt.Sprintf("event at version %d (op %s) was never acknowledged to any client", ev.version, ev.id))
	}
	return r
}

// authorOf returns the client id of op id "<client>:<seq>".
func authorOf(id string) string {
	if i := strings.LastIndexByte(id, ':'); i > 0 {
		return id[:i]
	}
	return id
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
