package soak

import (
	"testing"
	"time"

	"github.com/collabedit/collab/servertest"
)

// TestSoak runs 3 server processes on one data directory and one Redis,
// 30 clients on 5 documents for SOAK_DURATION (60 s by default), and the
// faults of SOAK_FAULTS (all three by default) spaced over it; then it
// stops editing, waits for every client to be synced and checks the
// clients against the shared log. See the package documentation for the
// checks.
func TestSoak(t *testing.T) {
	t.Parallel()
	set := loadSettings(t)
	faultsAt := faultSchedule(set)
	needTime(t, set.duration+2*set.drainTimeout()+time.Duration(len(faultsAt))*set.probeDeadline()+time.Minute)
	timers := "compressed"
	if set.defaultTimers {
		timers = "default"
	}
	t.Logf("%v of editing with %s timers, %d faults", set.duration, timers, len(faultsAt))

	e := newEnv(set)
	cl := startCluster(t, set, 3)
	cs := startCast(t, e, cl)
	soakStart := time.Now()
	faults := runFaults(t, e, cl, soakStart, faultsAt)
	time.Sleep(time.Until(soakStart.Add(set.duration))) // the run's length: editing (and faults) go on meanwhile
	soakLen := time.Since(soakStart)

	cs.stopEditing()
	unsynced := drain(e, cs.editors, cs.raws)
	logs := readLog(t, cl.dir, soakDocs, e.found)
	converge(e, cs.byDoc, logs, unsynced)
	docs := reconcileAll(e, logs, unsynced)
	checkExercised(t, e, cl, cs, docs)
	cs.stop()

	r := soakFigures(e, cl, cs, faults, docs)
	r.Timers, r.SoakS = timers, soakLen.Seconds()
	logSoakSummary(t, r)
	report.mu.Lock()
	report.Soak = r
	report.mu.Unlock()
	e.found.fail(t)
}

// runFaults injects the faults at their scheduled times, or later if the
// previous one took longer than its slot (a frozen document keeps its
// probes waiting 15 s). Faults that would start after the soak's end are
// left out, so a broken server does not stretch the run.
func runFaults(t *testing.T, e *env, cl *cluster, start time.Time, at []time.Duration) []faultReport {
	t.Helper()
	rng := e.set.rng(1)
	var out []faultReport
	for i, offset := range at {
		time.Sleep(time.Until(start.Add(offset))) // the fault's slot in the schedule
		if time.Since(start) > e.set.duration-e.set.recoveryBound() {
			t.Logf("faults %d to %d left out: the soak's time is up", i+1, len(at))
			break
		}
		kind := e.set.faults[i%len(e.set.faults)]
		f := runFault(e, cl, kind, i+1, soakDocs, rng)
		t.Logf("fault %d at +%.1fs, %s%s: max recovery %.2fs; slow %v; frozen %v; survived %v",
			i+1, f.StartS, f.Kind, target(f.Target), f.MaxRecoveryS, f.Slow, f.Frozen, f.Survived)
		out = append(out, f)
	}
	return out
}

// checkExercised fails the run if it did not exercise what it claims:
// editing on every document, forwarding and routing between processes,
// and the bursty document unloaded at least once.
func checkExercised(t *testing.T, e *env, cl *cluster, cs *cast, docs []docFigures) {
	t.Helper()
	for _, d := range docs {
		// 20 events is a fraction of a second of this load; fewer means
		// the clients never really edited.
		if d.Events < 20 {
			e.found.add(checkHarness, "harness", d.Doc, "only %d events: the document was hardly edited", d.Events)
		}
	}
	m := servertest.SumMetrics(t, cl.procs...)
	if m["collab_ops_forwarded_total"] == 0 {
		e.found.add(checkHarness, "harness", "*", "no op was forwarded to an owner: the cluster path was not exercised")
	}
	if m["collab_opens_routed_total"] == 0 {
		e.found.add(checkHarness, "harness", "*", "no open was routed to an owner: routing was not exercised")
	}
	if _, quiet, unloads := cs.bursty.counts(); quiet > 0 && unloads == 0 {
		e.found.add(checkHarness, "harness", burstyDoc, "its lease was held after each of %d quiet pauses longer than the idle timeout: never unloaded", quiet)
	}
}

// soakFigures gathers the run's figures.
func soakFigures(e *env, cl *cluster, cs *cast, faults []faultReport, docs []docFigures) *soakReport {
	f := e.found
	r := &soakReport{Seed: e.set.seed, Processes: len(cl.procs), Clients: len(cs.editors) + len(cs.raws),
		Documents: docs, Faults: faults, AckedOpsChecked: e.ledger.total(),
		Lost: f.count(checkLost), Doubled: f.count(checkDoubled), AckVersionMismatches: f.count(checkAckVersion),
		FrozenDocuments: frozenDocs(faults), SlowRecoveries: f.count(checkRecovery),
		OrderViolations: f.count(checkOrder), UnexpectedDisconnects: f.count(checkDisconnect),
		UnexpectedErrors: f.count(checkError), NotConverged: f.count(checkConverge),
		Allowed: f.noteCounts(), ServerLog: serverLogSummary(cl.procs...), Findings: f.list()}
	r.BurstyPauses, r.BurstyQuietPauses, r.BurstyUnloads = cs.bursty.counts()
	for _, fr := range faults {
		if fr.Survived {
			r.FaultsSurvived++
		}
	}
	r.Passed = true
	for _, c := range allChecks {
		r.Passed = r.Passed && f.count(c) == 0
	}
	return r
}
