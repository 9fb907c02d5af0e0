package soak

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// faultKind is one of the faults the soak injects, in this order, round
// after round.
type faultKind string

const (
	faultRedisPause   faultKind = "redis SIGSTOP for 3 lease TTLs, then SIGCONT"
	faultRedisRestart faultKind = "redis SIGKILL, down 1 lease TTL, restarted empty"
	faultProcessKill  faultKind = "server process SIGKILL, down 1 lease TTL (≥ 500 ms), restarted on its data and port"
)

// namedFault is a fault and its name in SOAK_FAULTS.
type namedFault struct {
	name string
	kind faultKind
}

// faultNames are the faults in their default order.
var faultNames = []namedFault{{"redis-pause", faultRedisPause}, {"redis-kill", faultRedisRestart}, {"process-kill", faultProcessKill}}

// parseFaults reads SOAK_FAULTS: fault names separated by commas, in the
// order to cycle through, or "none" for a fault-free run (which checks
// the harness: it must pass on a healthy server).
func parseFaults(v string) ([]faultKind, error) {
	var out []faultKind
	if v == "" {
		for _, f := range faultNames {
			out = append(out, f.kind)
		}
		return out, nil
	}
	if v == "none" {
		return nil, nil
	}
	for _, name := range strings.Split(v, ",") {
		i := slices.IndexFunc(faultNames, func(f namedFault) bool { return f.name == strings.TrimSpace(name) })
		if i < 0 {
			return nil, fmt.Errorf("unknown fault %q: want redis-pause, redis-kill, process-kill or none", name)
		}
		out = append(out, faultNames[i].kind)
	}
	return out, nil
}

// The per-fault checks, as named in the report.
const (
	heldRecovery    = "every document accepts ops on every process within 2 lease TTLs"
	heldDisconnects = "no unexpected disconnects"
	heldOrder       = "no version out of order or acknowledged twice differently"
	heldErrors      = "no unexpected error codes"
)

// faultReport is what happened during one fault and its recovery.
type faultReport struct {
	Kind   string  `json:"kind"`
	Target string  `json:"target,omitempty"` // the process killed
	StartS float64 `json:"start_s"`          // since the soak started
	EndS   float64 `json:"end_s"`
	// MaxRecoveryS is the slowest acknowledged probe's time to its first
	// ack from the fault's end; probes never acknowledged are in Frozen.
	MaxRecoveryS float64         `json:"max_recovery_s"`
	BoundS       float64         `json:"bound_s"`
	Probes       int             `json:"probes"`
	Slow         []string        `json:"slow,omitempty"`   // acknowledged past the bound
	Frozen       []string        `json:"frozen,omitempty"` // never acknowledged
	Held         map[string]bool `json:"checks_held"`
	Survived     bool            `json:"survived"` // every check held
}

// faultSchedule returns when each fault starts, as offsets into the
// soak: after a warm-up, spread evenly, in whole rounds of set.faults,
// ending early enough that editing goes on for a while after the last
// one. Each slot is at least 8 lease TTLs (8 s): the longest fault, a
// 3-TTL pause, then probes (under 2 TTLs when the server is healthy) and
// 2 TTLs of settling. A 60 s run has two rounds: six faults.
func faultSchedule(set settings) []time.Duration {
	if len(set.faults) == 0 {
		return nil
	}
	warmup := max(5*time.Second, 2*set.leaseTTL)
	tail := warmup
	slot := max(8*time.Second, 8*set.leaseTTL)
	avail := set.duration - warmup - tail
	rounds := max(1, int(avail/(time.Duration(len(set.faults))*slot)))
	n := rounds * len(set.faults)
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = warmup + time.Duration(i)*avail/time.Duration(n)
	}
	return out
}

// runFault injects one fault, probes every document on every process
// from the moment it ends, lets the system settle, and reports which
// checks held from its start to then.
func runFault(e *env, cl *cluster, kind faultKind, n int, docs []string, rng *rand.Rand) faultReport {
	set := e.set
	span := e.faults.begin()
	defer e.faults.end(span)
	before := e.found.snapshot()
	start := time.Now()
	rep := faultReport{Kind: string(kind), StartS: start.Sub(e.start).Seconds(), BoundS: set.recoveryBound().Seconds()}
	switch kind {
	case faultRedisPause:
		cl.redis.Pause()
		// The fault's length (here and below), not a wait for anything:
		// leases lapse meanwhile.
		time.Sleep(3 * set.leaseTTL)
		cl.redis.Resume()
	case faultRedisRestart:
		cl.redis.Kill()
		time.Sleep(set.leaseTTL)
		cl.redis.Restart()
	case faultProcessKill:
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		v := cl.victim(ctx, rng, docs)
		cancel()
		rep.Target = v.Name()
		e.kills.killed(v.URL(), time.Now())
		v.Kill()
		time.Sleep(max(500*time.Millisecond, set.leaseTTL))
		v.Restart()
	}
	end := time.Now()
	rep.EndS = end.Sub(e.start).Seconds()
	probes := probeAll(e, cl.procs, docs, n, end)
	rep.judge(e, probes, set.recoveryBound(), leases(cl, docs))
	// Effects that come late (a drop, a stale delivery) are the fault's:
	// a window of time in which to see them, not a wait for one.
	time.Sleep(2 * set.leaseTTL)
	after := e.found.snapshot()
	delta := func(cs ...check) bool {
		for _, c := range cs {
			if after[c] != before[c] {
				return false
			}
		}
		return true
	}
	rep.Held = map[string]bool{
		heldRecovery:    len(rep.Slow)+len(rep.Frozen) == 0,
		heldDisconnects: delta(checkDisconnect),
		heldOrder:       delta(checkOrder, checkAckVersion),
		heldErrors:      delta(checkError),
	}
	rep.Survived = true
	for _, ok := range rep.Held {
		rep.Survived = rep.Survived && ok
	}
	return rep
}

// leases returns who holds each document's lease now, as evidence for a
// frozen document: a lease nobody holds, or held by a process that does
// not act as the owner.
func leases(cl *cluster, docs []string) map[string]string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out := make(map[string]string, len(docs))
	for _, doc := range docs {
		h, err := cl.leaseHolder(ctx, doc)
		switch {
		case err != nil:
			out[doc] = err.Error()
		case h == "":
			out[doc] = "nobody"
		default:
			out[doc] = h
		}
	}
	return out
}

// judge files the probes: slow ones and frozen documents are findings.
func (rep *faultReport) judge(e *env, probes []probeResult, bound time.Duration, holders map[string]string) {
	rep.Probes = len(probes)
	for _, p := range probes {
		switch {
		case !p.acked:
			rep.Frozen = append(rep.Frozen, p.String())
			e.found.add(checkFrozen, "probe@"+p.proc, p.doc, "after %q: no op acknowledged within %v of the fault's end (lease held by %s then)",
				rep.Kind, e.set.probeDeadline(), holders[p.doc])
		case p.after > bound:
			rep.Slow = append(rep.Slow, p.String())
			e.found.add(checkRecovery, "probe@"+p.proc, p.doc, "after %q: first ack %.2fs after the fault's end, bound %v",
				rep.Kind, p.after.Seconds(), bound)
		}
		if p.acked {
			rep.MaxRecoveryS = max(rep.MaxRecoveryS, p.after.Seconds())
		}
	}
}

// frozenDocs returns the documents frozen after some fault.
func frozenDocs(faults []faultReport) []string {
	seen := map[string]bool{}
	for _, f := range faults {
		for _, p := range f.Frozen {
			doc, _, _ := strings.Cut(p, "@")
			seen[doc] = true
		}
	}
	return sortedKeys(seen)
}
