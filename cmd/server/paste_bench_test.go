package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/servertest"
)

// BenchmarkPasteLoop is the abuse that once grew the data directory by
// 1.5 GB in 20 s and the server to 1.84 GB of memory: one connection
// pastes 900,000 characters and deletes them, over and over, resending
// whatever is refused. Each iteration is one paste and one delete tried
// for one second; with the default limits most are refused with
// rate_limited. It reports what the server grew by:
//
//	go test -run '^$' -bench PasteLoop -benchtime 20x ./cmd/server/
func BenchmarkPasteLoop(b *testing.B) {
	dir := b.TempDir()
	srv := servertest.Start(b, servertest.Options{Dir: dir, Args: []string{"-log-level", "warn", "-idle-timeout", "2s"}})
	pid := srv.PID()
	ws, _, err := websocket.DefaultDialer.Dial(srv.URL(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	ws.SetReadLimit(64 << 20)
	rssBefore, diskBefore := rssOf(b, pid), dirBytes(b, dir)
	send := func(s string) {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
			b.Fatal(err)
		}
	}
	read := func() map[string]any {
		_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, data, err := ws.ReadMessage()
		if err != nil {
			b.Fatal(err)
		}
		var m map[string]any
		_ = json.Unmarshal(data, &m)
		return m
	}
	send(`{"type":"open","doc":"paste"}`)
	read()
	body := strings.Repeat("x", 900000)
	version, seq, acks, refused, peak := 0, 0, 0, 0, int64(0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, op := range []string{`["` + body + `"]`, `[-900000]`} {
			for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); {
				send(fmt.Sprintf(`{"type":"op","doc":"paste","version":%d,"id":"p:%d","op":%s}`, version, seq, op))
				if m := read(); m["type"] == "ack" {
					acks, version, seq = acks+1, version+1, seq+1
					break
				}
				refused++
				time.Sleep(50 * time.Millisecond) // resend after a pause, as a client refused with rate_limited would
			}
		}
		peak = max(peak, rssOf(b, pid))
	}
	b.StopTimer()
	_ = ws.Close()
	// Past the idle timeout (2 s) the document unloads.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if !poll.Wait(ctx, func() bool { return srv.Metrics(b)["collab_documents_loaded"] == 0 }) {
		b.Fatal("the document did not unload after the idle timeout")
	}
	// RSS is read a few seconds after the unload, as docs/benchmarks.md
	// reports it: the runtime hands freed memory back to the kernel
	// gradually. Time passing on purpose, not a wait for anything.
	time.Sleep(3 * time.Second)
	b.ReportMetric(float64(acks)/float64(b.N), "acked/iter")
	b.ReportMetric(float64(refused)/float64(b.N), "refused/iter")
	b.ReportMetric(float64(dirBytes(b, dir)-diskBefore)/(1<<20), "disk-MB")
	b.ReportMetric(float64(peak-rssBefore)/(1<<20), "peak-rss-MB")
	b.ReportMetric(float64(rssOf(b, pid)-rssBefore)/(1<<20), "rss-after-unload-MB")
}

// rssOf reads a process's resident memory in bytes from /proc.
func rssOf(tb testing.TB, pid int) int64 {
	tb.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatal("no VmRSS")
	return 0
}

// dirBytes sums the sizes of the files in dir.
func dirBytes(tb testing.TB, dir string) int64 {
	tb.Helper()
	var n int64
	err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}
