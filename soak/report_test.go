package soak

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/collabedit/collab/servertest"
)

// soakReport is TestSoak's figures.
type soakReport struct {
	Seed                  uint64        `json:"seed"`
	Timers                string        `json:"timers"`
	SoakS                 float64       `json:"soak_s"`
	Processes             int           `json:"processes"`
	Clients               int           `json:"clients"`
	Documents             []docFigures  `json:"documents"`
	Faults                []faultReport `json:"faults"`
	FaultsSurvived        int           `json:"faults_survived"`
	AckedOpsChecked       int           `json:"acked_ops_checked"`
	Lost                  int           `json:"lost"`
	Doubled               int           `json:"doubled"`
	AckVersionMismatches  int           `json:"ack_version_mismatches"`
	FrozenDocuments       []string      `json:"frozen_documents"`
	SlowRecoveries        int           `json:"slow_recoveries"`
	OrderViolations       int           `json:"order_violations"`
	UnexpectedDisconnects int           `json:"unexpected_disconnects"`
	UnexpectedErrors      int           `json:"unexpected_errors"`
	NotConverged          int           `json:"not_converged"`
	BurstyPauses          int           `json:"bursty_pauses"`
	BurstyQuietPauses     int           `json:"bursty_quiet_pauses"` // no fault overlapped them
	BurstyUnloads         int           `json:"bursty_unloads"`      // quiet pauses after which the lease was free
	Allowed               []string      `json:"allowed"`             // unavailable answers by message, explained disconnects
	ServerLog             []string      `json:"server_log"`          // warnings and errors the servers logged, by message
	// Findings are the first findings of each failed check, word for word.
	Findings map[string][]string `json:"findings,omitempty"`
	Passed   bool                `json:"passed"`
}

// crashReport is TestCrashCycles' figures.
type crashReport struct {
	Seed                  uint64              `json:"seed"`
	Cycles                int                 `json:"cycles"`
	KilledWithOpsInFlight int                 `json:"killed_with_ops_in_flight"`
	AckedOpsChecked       int                 `json:"acked_ops_checked"`
	Lost                  int                 `json:"lost"`
	Doubled               int                 `json:"doubled"`
	AckVersionMismatches  int                 `json:"ack_version_mismatches"`
	NotConverged          int                 `json:"not_converged"`
	OrderViolations       int                 `json:"order_violations"`
	UnexpectedDisconnects int                 `json:"unexpected_disconnects"`
	UnexpectedErrors      int                 `json:"unexpected_errors"`
	ServerLog             []string            `json:"server_log"`
	Findings              map[string][]string `json:"findings,omitempty"`
	Passed                bool                `json:"passed"`
}

// report collects the figures of the tests that ran, for $SOAK_REPORT.
var report struct {
	mu          sync.Mutex
	Soak        *soakReport  `json:"soak,omitempty"`
	CrashCycles *crashReport `json:"crash_cycles,omitempty"`
}

// writeReport writes the figures as JSON to $SOAK_REPORT, if set.
func writeReport() error {
	path := os.Getenv("SOAK_REPORT")
	if path == "" {
		return nil
	}
	report.mu.Lock()
	defer report.mu.Unlock()
	b, err := json.MarshalIndent(&report, "", "  ")
	if err != nil {
		return fmt.Errorf("soak report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("soak report: %w", err)
	}
	return nil
}

// serverLogSummary counts the warnings and errors each server logged, by
// level and message: the server side of what the clients saw.
func serverLogSummary(procs ...*servertest.Server) []string {
	counts := make(map[string]int)
	for _, p := range procs {
		for _, line := range strings.Split(p.Logs(), "\n") {
			var rec struct{ Level, Message string }
			if json.Unmarshal([]byte(line), &rec) != nil || (rec.Level != "warn" && rec.Level != "error") {
				continue
			}
			counts[fmt.Sprintf("%s %s: %s", p.Name(), rec.Level, rec.Message)]++
		}
	}
	out := make([]string, 0, len(counts))
	for what, n := range counts {
		out = append(out, fmt.Sprintf("%6d × %s", n, what))
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out
}

// logSoakSummary writes the figures to the test log.
func logSoakSummary(t *testing.T, r *soakReport) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "soak summary (seed %d, %s timers):\n", r.Seed, r.Timers)
	fmt.Fprintf(&b, "  soak length             %.1f s, %d processes, %d clients, %d documents\n", r.SoakS, r.Processes, r.Clients, len(r.Documents))
	fmt.Fprintf(&b, "  faults survived         %d of %d\n", r.FaultsSurvived, len(r.Faults))
	for i, f := range r.Faults {
		rec := fmt.Sprintf("max %.2f s", f.MaxRecoveryS)
		if len(f.Frozen) > 0 {
			rec = fmt.Sprintf("never for %d of %d probes (max of the others %.2f s)", len(f.Frozen), f.Probes, f.MaxRecoveryS)
		}
		fmt.Fprintf(&b, "    %d. +%.0fs %s%s: recovery %s (bound %.0f s); held: %s\n", i+1, f.StartS, f.Kind,
			target(f.Target), rec, f.BoundS, heldList(f.Held))
	}
	fmt.Fprintf(&b, "  acked ops checked       %d\n", r.AckedOpsChecked)
	fmt.Fprintf(&b, "  lost                    %d\n", r.Lost)
	fmt.Fprintf(&b, "  doubled                 %d\n", r.Doubled)
	fmt.Fprintf(&b, "  acked at wrong version  %d\n", r.AckVersionMismatches)
	fmt.Fprintf(&b, "  frozen documents        %d %v\n", len(r.FrozenDocuments), r.FrozenDocuments)
	fmt.Fprintf(&b, "  slow recoveries         %d\n", r.SlowRecoveries)
	fmt.Fprintf(&b, "  order violations        %d\n", r.OrderViolations)
	fmt.Fprintf(&b, "  unexpected disconnects  %d\n", r.UnexpectedDisconnects)
	fmt.Fprintf(&b, "  unexpected errors       %d\n", r.UnexpectedErrors)
	fmt.Fprintf(&b, "  not converged           %d\n", r.NotConverged)
	fmt.Fprintf(&b, "  bursty unloads          %d of %d quiet pauses (%d in all)\n", r.BurstyUnloads, r.BurstyQuietPauses, r.BurstyPauses)
	for _, d := range r.Documents {
		fmt.Fprintf(&b, "  %-8s                %d events, %d acknowledged, %d code points\n", d.Doc, d.Events, d.Acked, d.Length)
	}
	b.WriteString("  allowed:\n")
	for _, s := range r.Allowed {
		b.WriteString("    " + s + "\n")
	}
	b.WriteString("  server warnings and errors:\n")
	for _, s := range r.ServerLog {
		b.WriteString("    " + s + "\n")
	}
	t.Log(b.String())
}

func target(name string) string {
	if name == "" {
		return ""
	}
	return " (" + name + ")"
}

// heldList names the checks that held and marks those that did not.
func heldList(held map[string]bool) string {
	var parts []string
	for _, name := range sortedKeys(held) {
		if held[name] {
			parts = append(parts, name)
		} else {
			parts = append(parts, "NOT "+name)
		}
	}
	return strings.Join(parts, "; ")
}
