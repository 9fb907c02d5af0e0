package soak

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/servertest"
)

// crashDocs are the documents of TestCrashCycles; crashWriters the Go
// clients on each.
var crashDocs = []string{"crash0", "crash1"}

const (
	crashCycles  = 10
	crashWriters = 3
)

// TestCrashCycles SIGKILLs a lone server process (no Redis, its own data
// directory) ten times at random moments while its clients' ops are in
// flight, and restarts it on the same data directory and port. Writers
// type every 2–15 ms, so one op per client is nearly always in flight
// and more are buffered. After each cycle every client must converge on
// the log; every acknowledged op must be in it once, at the version it
// was acknowledged at, and nothing else.
func TestCrashCycles(t *testing.T) {
	t.Parallel()
	set := loadSettings(t)
	e := newEnv(set)
	srv := servertest.Start(t, servertest.Options{Name: "solo", Args: []string{"-log-level", "warn"}})
	ctx, cancel := context.WithCancel(context.Background())
	var editors []*editor
	byDoc := make(map[string][]member)
	t.Cleanup(func() {
		cancel()
		for _, ed := range editors {
			ed.wait()
			_ = ed.c.Close()
		}
	})
	for k, doc := range crashDocs {
		for j := 0; j < crashWriters; j++ {
			ed, err := startEditor(ctx, e, editorConfig{name: fmt.Sprintf("w%d%d", k, j), doc: doc, urls: []string{srv.URL()},
				typeMin: 2 * time.Millisecond, typeMax: 15 * time.Millisecond}, set.rng(uint64(200+10*k+j)))
			if err != nil {
				t.Fatalf("start the writers: %v", err)
			}
			editors = append(editors, ed)
			byDoc[doc] = append(byDoc[doc], ed)
		}
	}
	rng := set.rng(2)
	reported := make(map[string]bool) // reconcile's findings, each filed once
	r := &crashReport{Seed: set.seed, Cycles: crashCycles}
	for cycle := 1; cycle <= crashCycles; cycle++ {
		// 300–1500 ms of typing: the kill lands anywhere in a commit. (A
		// random moment of the run, not a wait for anything.)
		time.Sleep(300*time.Millisecond + time.Duration(rng.Int64N(int64(1200*time.Millisecond))))
		// Then the first moment an op is in flight (nearly always at once).
		wctx, wcancel := context.WithTimeout(ctx, time.Second)
		poll.Wait(wctx, func() bool { return opsInFlight(editors) > 0 })
		wcancel()
		inFlight := opsInFlight(editors)
		if inFlight > 0 {
			r.KilledWithOpsInFlight++
		}
		killed := time.Now()
		e.kills.killed(srv.URL(), killed)
		srv.Kill()
		// Down for 100–400 ms: clients keep typing into their buffers.
		// (The outage's length, not a wait for anything.)
		time.Sleep(100*time.Millisecond + time.Duration(rng.Int64N(int64(300*time.Millisecond))))
		srv.Restart()
		// Every writer back on the new run, still typing, before the
		// check stops them; one that does not reconnect is reported by
		// the check's drain.
		wctx, wcancel = context.WithTimeout(ctx, set.drainTimeout())
		poll.Wait(wctx, func() bool { return reconnected(editors, killed) })
		wcancel()
		checkCycle(t, e, srv, editors, byDoc, reported)
		t.Logf("cycle %d: killed with %d of %d writers' ops in flight; %d ops acknowledged so far", cycle, inFlight, len(editors), e.ledger.total())
	}
	r.AckedOpsChecked = e.ledger.total()
	f := e.found
	r.Lost, r.Doubled, r.AckVersionMismatches = f.count(checkLost), f.count(checkDoubled), f.count(checkAckVersion)
	r.NotConverged, r.OrderViolations = f.count(checkConverge), f.count(checkOrder)
	r.UnexpectedDisconnects, r.UnexpectedErrors = f.count(checkDisconnect), f.count(checkError)
	r.ServerLog = serverLogSummary(srv)
	r.Findings = f.list()
	r.Passed = true
	for _, c := range allChecks {
		r.Passed = r.Passed && f.count(c) == 0
	}
	if r.KilledWithOpsInFlight == 0 {
		f.add(checkHarness, "harness", "*", "no kill found an op in flight: the cycles did not test what they claim")
	}
	t.Logf("crash cycles: %d kills, %d with ops in flight; %d acknowledged ops checked; lost %d, doubled %d, acked at the wrong version %d; not converged %d; order violations %d; unexpected disconnects %d; unexpected errors %d",
		r.Cycles, r.KilledWithOpsInFlight, r.AckedOpsChecked, r.Lost, r.Doubled, r.AckVersionMismatches, r.NotConverged,
		r.OrderViolations, r.UnexpectedDisconnects, r.UnexpectedErrors)
	report.mu.Lock()
	report.CrashCycles = r
	report.mu.Unlock()
	f.fail(t)
}

// opsInFlight counts the writers with an op sent and not acknowledged.
func opsInFlight(editors []*editor) int {
	n := 0
	for _, ed := range editors {
		if d := ed.doc(); d != nil && d.Pending() {
			n++
		}
	}
	return n
}

// reconnected reports whether every writer has connected since t.
func reconnected(editors []*editor, t time.Time) bool {
	for _, ed := range editors {
		if !ed.watch.connectedSince(t) {
			return false
		}
	}
	return true
}

// checkCycle stops typing, waits for every writer to be synced, checks
// convergence and the ledger against the log, and resumes typing.
func checkCycle(t *testing.T, e *env, srv *servertest.Server, editors []*editor, byDoc map[string][]member, reported map[string]bool) {
	t.Helper()
	for _, ed := range editors {
		ed.typing.Store(false)
	}
	unsynced := drain(e, editors, nil)
	logs := readLog(t, srv.Dir(), crashDocs, e.found)
	converge(e, byDoc, logs, unsynced)
	for _, doc := range crashDocs {
		acked, unsettled := e.ledger.account(doc)
		r := reconcile(logs[doc], acked, unsettled, unsynced)
		for c, details := range map[check][]string{checkLost: r.lost, checkAckVersion: r.misplaced, checkDoubled: r.doubled} {
			for _, s := range details {
				if !reported[s] {
					reported[s] = true
					e.found.add(c, "log", doc, "%s", s)
				}
			}
		}
	}
	for _, ed := range editors {
		ed.typing.Store(true)
	}
}
