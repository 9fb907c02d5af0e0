package loadgen

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// Print writes the report as a human-readable table.
func (rp *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "scenario %s  %s\n", rp.Scenario, formatParams(rp.Params))
	fmt.Fprintf(w, "clients %d  elapsed %.1f s, steady window %.1f s\n\n", rp.Counts.Clients, rp.ElapsedSec, rp.SteadySec)
	rp.printCounts(w)
	rp.printLatencies(w)
	rp.printReplay(w)
	rp.printStorm(w)
	rp.printServer(w)
	rp.printOutcome(w)
}

func (rp *Report) printCounts(w io.Writer) {
	c, r := rp.Counts, rp.Rates
	if c.Edits == 0 && c.Sent == 0 && c.Delivered == 0 {
		return // a storm: nothing was edited
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\ttotal\tper s (steady)\t")
	fmt.Fprintf(tw, "edits\t%d\t%.0f\t\n", c.Edits, r.Edits)
	fmt.Fprintf(tw, "ops sent\t%d\t%.0f\t\n", c.Sent, r.Sent)
	fmt.Fprintf(tw, "ops acked\t%d\t%.0f\t\n", c.Acked, r.Acked)
	fmt.Fprintf(tw, "ops refused\t%d\t%.0f\t\n", c.Refused, r.Refused)
	fmt.Fprintf(tw, "ops unacked\t%d\t\t\n", c.Unacked)
	fmt.Fprintf(tw, "delivered\t%d\t%.0f\t\n", c.Delivered, r.Delivered)
	_ = tw.Flush()
	if len(rp.Refused) > 0 {
		fmt.Fprintf(w, "refused by code: %s\n", formatCounts(rp.Refused))
	}
	if c.Unmatched > 0 || c.LateEdits > 0 || c.SkippedEdits > 0 {
		fmt.Fprintf(w, "deliveries without a send time %d; edits late by >100 ms %d (generator overloaded); skipped edits %d\n",
			c.Unmatched, c.LateEdits, c.SkippedEdits)
	}
	fmt.Fprintln(w)
}

func (rp *Report) printLatencies(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "latency (ms)\tcount\tmean\tp50\tp90\tp99\tp99.9\tmax\t")
	for _, l := range []struct {
		name string
		v    Latency
	}{{"ack", rp.Ack}, {"remote", rp.Remote}, {"connect", rp.Connect}} {
		if l.v.Count == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t\n",
			l.name, l.v.Count, l.v.Mean, l.v.P50, l.v.P90, l.v.P99, l.v.P999, l.v.Max)
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
}

func (rp *Report) printReplay(w io.Writer) {
	if len(rp.Replay) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "trace\tengine\tcopies\tpatches\tops acked\tseconds\tedits/s\tops/s\tend text\t")
	for _, r := range rp.Replay {
		match := "matches"
		if !r.Match {
			match = "DIFFERS"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%.2f\t%.0f\t%.0f\t%s\t\n",
			r.Trace, r.Engine, r.Copies, r.Patches, r.OpsAcked, r.ElapsedSec, r.EditsPerSec, r.OpsPerSec, match)
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
}

func (rp *Report) printStorm(w io.Writer) {
	s := rp.Storm
	if s == nil {
		return
	}
	fmt.Fprintf(w, "storm: %d of %d connected in %.2f s (%.0f/s), %d dropped while idle\n",
		s.Connected, s.Attempted, s.ConnectSec, s.ConnectsPerSec, s.Dropped)
	if s.RSSPerConn != 0 {
		fmt.Fprintf(w, "server per connection (%.0f conns): RSS %.1f KB, heap %.1f KB, stacks %.1f KB; RSS %.1f MB after connect\n",
			s.ServerConns, s.RSSPerConn/1024, s.HeapPerConn/1024, s.StackPerConn/1024,
			s.AfterConnect.Values["process_resident_memory_bytes"]/(1<<20))
	}
	if len(rp.ConnFailed) > 0 {
		fmt.Fprintf(w, "connect failures: %s\n", formatCounts(rp.ConnFailed))
	}
	fmt.Fprintln(w)
}

func (rp *Report) printServer(w io.Writer) {
	if s := rp.Server; s != nil {
		v := s.After.Values
		fmt.Fprintf(w, "server: %.0f frames/s sent, %.0f ops/s applied, %.1f events/commit, CPU %.2f cores; now RSS %.1f MB, heap %.1f MB, %.0f goroutines, %.0f connections\n",
			s.FramesPerSec, s.OpsPerSec, s.EventsPerCommit, s.CPUCores,
			v["process_resident_memory_bytes"]/(1<<20), v["go_memstats_heap_inuse_bytes"]/(1<<20), v["go_goroutines"], v["collab_connections"])
		if d := v["collab_slow_consumers_total"] - s.Before.Values["collab_slow_consumers_total"]; d > 0 {
			fmt.Fprintf(w, "server closed %.0f slow consumers (4001)\n", d)
		}
		if d := v["collab_rate_limited_total"] - s.Before.Values["collab_rate_limited_total"]; d > 0 {
			fmt.Fprintf(w, "server refused %.0f messages as rate_limited (raise its -rate)\n", d)
		}
	}
	g := rp.Generator
	switch {
	case g.MachineCores > 0:
		server := 0.0
		if rp.Server != nil {
			server = rp.Server.CPUCores
		}
		fmt.Fprintf(w, "machine (steady window): %.2f of %d cores busy: server %.2f, load generator %.2f, other %.2f\n\n",
			g.MachineCores, g.NumCPU, server, g.SteadyCores, max(g.MachineCores-server-g.SteadyCores, 0))
	case rp.ElapsedSec > 0:
		fmt.Fprintf(w, "load generator: CPU %.2f cores of %d (it shares the machine with the server)\n\n", g.CPUSec/rp.ElapsedSec, g.GOMAXPROCS)
	}
}

func (rp *Report) printOutcome(w io.Writer) {
	if c := rp.Convergence; c != nil && c.Checked {
		state := "OK"
		if !c.OK {
			state = "FAILED"
		}
		fmt.Fprintf(w, "convergence: %s (%d documents, %d clients)\n", state, c.Docs, c.Clients)
		for _, f := range c.Failures {
			fmt.Fprintf(w, "  %s\n", f)
		}
	}
	fmt.Fprintf(w, "errors: %d\n", rp.ErrorCount)
	for _, e := range rp.Errors {
		fmt.Fprintf(w, "  %s\n", e)
	}
	for _, wn := range rp.Warnings {
		fmt.Fprintf(w, "warning: %s\n", wn)
	}
	if len(rp.Violations) == 0 {
		fmt.Fprintln(w, "result: PASS")
		return
	}
	fmt.Fprintln(w, "result: FAIL")
	for _, v := range rp.Violations {
		fmt.Fprintf(w, "  %s\n", v)
	}
}

func formatParams(p map[string]any) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%v ", k, p[k])
	}
	return strings.TrimSpace(b.String())
}

func formatCounts(m map[string]uint64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
