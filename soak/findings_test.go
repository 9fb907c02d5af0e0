package soak

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// check names one property the suite verifies; findings are filed under
// the check they break.
type check string

const (
	checkDisconnect check = "unexpected disconnect"       // (1)
	checkConverge   check = "not converged"               // (2)
	checkLost       check = "acknowledged op lost"        // (3)
	checkDoubled    check = "op applied twice"            // (3)
	checkAckVersion check = "ack at the wrong version"    // (3)
	checkOrder      check = "version out of order"        // (4)
	checkError      check = "unexpected error code"       // (5)
	checkRecovery   check = "slow recovery after fault"   // the 2×TTL bound
	checkFrozen     check = "document frozen after fault" // never recovered
	checkHarness    check = "harness precondition"        // the run did not exercise what it claims
)

// allChecks lists the checks in report order.
var allChecks = []check{checkDisconnect, checkConverge, checkLost, checkDoubled, checkAckVersion,
	checkOrder, checkError, checkRecovery, checkFrozen, checkHarness}

// maxDetails is how many findings of one check are kept word for word;
// the rest are counted. A frozen document can produce thousands of
// identical findings, and the first twenty say all there is to say.
const maxDetails = 20

// finding is one broken expectation, with enough to find it in the logs.
type finding struct {
	at     time.Duration // since the run started
	who    string        // client, probe or "log"
	doc    string
	detail string
}

func (f finding) String() string {
	return fmt.Sprintf("+%.1fs %s on %s: %s", f.at.Seconds(), f.who, f.doc, f.detail)
}

// findings collects what every client and check found, and counts what is
// allowed but worth reporting (notes: unavailable answers by message,
// explained disconnects). Safe for concurrent use.
type findings struct {
	start time.Time

	mu      sync.Mutex
	details map[check][]finding
	counts  map[check]int
	notes   map[string]int
}

func newFindings(start time.Time) *findings {
	return &findings{start: start, details: make(map[check][]finding),
		counts: make(map[check]int), notes: make(map[string]int)}
}

// add files a finding under c.
func (f *findings) add(c check, who, doc, format string, args ...any) {
	fd := finding{at: time.Since(f.start), who: who, doc: doc, detail: fmt.Sprintf(format, args...)}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts[c]++
	if len(f.details[c]) < maxDetails {
		f.details[c] = append(f.details[c], fd)
	}
}

// note counts something allowed, e.g. "unavailable: document owner unknown".
func (f *findings) note(what string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notes[what]++
}

// count returns how many findings c has.
func (f *findings) count(c check) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[c]
}

// snapshot returns the count of every check, to compare before and after
// a fault.
func (f *findings) snapshot() map[check]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[check]int, len(f.counts))
	for c, n := range f.counts {
		out[c] = n
	}
	return out
}

// noteCounts returns the notes, sorted by count, most first.
func (f *findings) noteCounts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.notes))
	for what, n := range f.notes {
		out = append(out, fmt.Sprintf("%6d × %s", n, what))
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out
}

// list returns the findings kept word for word, by check, with a last
// line counting those left out.
func (f *findings) list() map[string][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string][]string)
	for c, fds := range f.details {
		for _, fd := range fds {
			out[string(c)] = append(out[string(c)], fd.String())
		}
		if n := f.counts[c] - len(fds); n > 0 {
			out[string(c)] = append(out[string(c)], fmt.Sprintf("… and %d more", n))
		}
	}
	return out
}

// fail reports every check with findings as a test error, with its first
// findings word for word.
func (f *findings) fail(t testing.TB) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range allChecks {
		n := f.counts[c]
		if n == 0 {
			continue
		}
		var b strings.Builder
		for _, fd := range f.details[c] {
			b.WriteString("\n    " + fd.String())
		}
		if n > len(f.details[c]) {
			fmt.Fprintf(&b, "\n    … and %d more", n-len(f.details[c]))
		}
		t.Errorf("check %q failed %d times:%s", c, n, b.String())
	}
}
