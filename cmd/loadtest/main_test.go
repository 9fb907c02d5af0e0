package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/hub/hubtest"
	"github.com/collabedit/collab/loadgen"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut strings.Builder
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestThresholdCrossedExitsNonZero(t *testing.T) {
	s := hubtest.Start(t, hub.Config{})
	base := []string{"typists", "-url", s.URL, "-docs", "1", "-editors", "2", "-rate", "20", "-duration", "700ms", "-no-metrics"}

	jsonPath := filepath.Join(t.TempDir(), "out.json")
	// Over a second, so the progress line is printed at least once.
	code, out, stderr := runCmd(t, append(base, "-max-ack-p99", "5s", "-json", jsonPath, "-duration", "1200ms")...)
	if code != exitPass || !strings.Contains(out, "result: PASS") {
		t.Fatalf("generous threshold: exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(stderr, "ops/s") {
		t.Errorf("no progress line on stderr: %q", stderr)
	}
	var rp loadgen.Report
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rp); err != nil || rp.Scenario != "typists" || rp.Counts.Acked == 0 || !rp.Convergence.OK {
		t.Fatalf("json report: %v %+v", err, rp)
	}

	// Nothing acknowledges in a microsecond.
	code, out, _ = runCmd(t, append(base, "-max-ack-p99", "1us", "-quiet")...)
	if code != exitFail || !strings.Contains(out, "result: FAIL") || !strings.Contains(out, "ack p99") {
		t.Fatalf("crossed threshold: exit %d\n%s", code, out)
	}
	code, out, _ = runCmd(t, append(base, "-min-ops", "1e9", "-quiet")...)
	if code != exitFail || !strings.Contains(out, "acked ops") {
		t.Fatalf("min-ops: exit %d\n%s", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"nosuch"},
		{"typists"},                     // no -url
		{"typists", "-url", "http://x"}, // not ws
		{"typists", "-url", "ws://x", "extra"},
		{"storm", "-url", "ws://x", "-max-mem-per-conn", "lots"},
	} {
		if code, _, _ := runCmd(t, args...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
		}
	}
	if code, _, _ := runCmd(t, "replay", "-h"); code != exitPass {
		t.Errorf("-h: exit %d", code)
	}
}

func TestSizeFlag(t *testing.T) {
	for in, want := range map[string]float64{"16384": 16384, "16KB": 16384, "16kib": 16384, "200MB": 200 << 20, "1.5GB": 1.5 * (1 << 30)} {
		var s sizeFlag
		if err := s.Set(in); err != nil || float64(s) != want {
			t.Errorf("Set(%q) = %v, %v; want %v", in, float64(s), err, want)
		}
	}
}
