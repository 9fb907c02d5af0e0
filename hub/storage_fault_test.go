package hub_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/hub/hubtest"
	"github.com/collabedit/collab/internal/mounttest"
	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/protocol"
)

// resendUntilAcked sends op id at version until it is acked, retrying
// after each unavailable, and returns the ack's version.
func resendUntilAcked(t *testing.T, c *wsClient, doc string, version int, id, text string) int64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c.send(opFrame(doc, version, id, text))
		for {
			m := c.read()
			switch {
			case m.Type == protocol.TypeAck && m.ID == id:
				return m.Version
			case m.Type == protocol.TypeError && m.Code == protocol.CodeUnavailable:
				time.Sleep(50 * time.Millisecond) // a client's retry backoff, as real clients do on unavailable
			case m.Type == protocol.TypeError:
				t.Fatalf("op %s refused: %+v", id, m)
			default:
				continue // an ack for an earlier send, another's op
			}
			break
		}
	}
	t.Fatalf("op %s never acked", id)
	return 0
}

// TestStuckDiskAnsweredInTime: when the data filesystem stops answering
// (frozen with fsfreeze: every write sleeps in the kernel), an op is
// answered unavailable within CommitTimeout — before, it waited for the
// disk for as long as it took (20 s seen with a read-only filesystem) —
// and new ops are refused at once. When the disk comes back, the stuck
// op's resend is acked once, and editing resumes with every version
// delivered once, in order.
func TestStuckDiskAnsweredInTime(t *testing.T) {
	t.Parallel()
	const commitTimeout = 300 * time.Millisecond
	dir := mounttest.Ext4(t, 64<<20)
	s := hubtest.StartAt(t, filepath.Join(dir, "events.db"), hub.Config{CommitTimeout: commitTimeout, ClusterTick: 20 * time.Millisecond})
	w := dial(t, s.URL)
	w.open("d")
	reader := readOrder(t, s.URL, "d")
	w.send(opFrame("d", 0, "w:0", "a"))
	w.expect("ack")

	thaw := mounttest.Freeze(t, dir)
	start := time.Now()
	w.send(opFrame("d", 1, "w:1", "b"))
	e := w.expectError(protocol.CodeUnavailable)
	waited := time.Since(start)
	if e.ID != "w:1" || !strings.Contains(e.Message, "not known yet") {
		t.Fatalf("refusal %+v: want w:1, outcome not known", e)
	}
	if waited > s.Hub.Config().WriteTimeout {
		t.Fatalf("answered after %v, over the write timeout", waited)
	}
	w.send(opFrame("d", 1, "w:2", "c"))
	if e := w.expectError(protocol.CodeUnavailable); e.ID != "w:2" {
		t.Fatalf("a new op while the disk is stuck: %+v", e)
	}
	thaw()
	if v := resendUntilAcked(t, w, "d", 1, "w:1", "b"); v != 1 {
		t.Fatalf("stuck op acked at %d, want 1", v)
	}
	if v := resendUntilAcked(t, w, "d", 2, "w:2", "c"); v != 2 {
		t.Fatalf("next op acked at %d, want 2", v)
	}
	if h := s.Head(t, "d"); h != 3 {
		t.Fatalf("log at %d, want 3: an op was lost or applied twice", h)
	}
	poll.Until(t, "the reader to see every version", func() bool { return reader.version.Load() == 3 })
	reader.check(t, "reader")
	t.Logf("stuck op answered after %v (commit timeout %v)", waited, commitTimeout)
}

// TestDiskReserveRefusesClearly: below the free-disk reserve an op is
// refused with unavailable saying the storage is full, and accepted again
// once space is freed.
func TestDiskReserveRefusesClearly(t *testing.T) {
	t.Parallel()
	dir := mounttest.Tmpfs(t, 32<<20)
	s := hubtest.StartStore(t, filepath.Join(dir, "events.db"), eventlog.Config{MinFreeBytes: 8 << 20}, hub.Config{})
	c := dial(t, s.URL)
	c.open("d")
	c.send(opFrame("d", 0, "c:0", "a"))
	c.expect("ack")
	filler := mounttest.Fill(t, filepath.Join(dir, "filler"), mounttest.Free(t, dir)-4<<20)
	c.send(opFrame("d", 1, "c:1", "b"))
	e := c.expectError(protocol.CodeUnavailable)
	if e.ID != "c:1" || !strings.Contains(e.Message, "storage is full") || !strings.Contains(e.Message, "reserve") {
		t.Fatalf("refusal %+v: want c:1 and a message about the full storage", e)
	}
	if err := removeFile(filler); err != nil {
		t.Fatal(err)
	}
	if v := resendUntilAcked(t, c, "d", 1, "c:1", "b"); v != 1 {
		t.Fatalf("acked at %d after space was freed, want 1", v)
	}
	if h := s.Head(t, "d"); h != 2 {
		t.Fatalf("log at %d, want 2", h)
	}
}

func removeFile(path string) error {
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("free space: %w", err)
	}
	return nil
}

// TestPendingBytesBounded: while the disk holds commits back, a document
// takes at most MaxPendingBytes of ops waiting to be stored; beyond that
// ops are refused with unavailable at once, and memory cannot grow with
// whatever clients keep sending.
func TestPendingBytesBounded(t *testing.T) {
	t.Parallel()
	dir := mounttest.Ext4(t, 64<<20)
	s := hubtest.StartAt(t, filepath.Join(dir, "events.db"), hub.Config{MaxPendingBytes: 64 << 10, InsertRate: 1e9,
		CommitTimeout: time.Minute})
	c := dial(t, s.URL)
	c.open("d")
	thaw := mounttest.Freeze(t, dir)
	body := strings.Repeat("x", 40<<10)
	c.send(opFrame("d", 0, "c:1", body)) // 40 KB waiting
	c.send(opFrame("d", 0, "c:2", body)) // 80 KB: over the bound from now on
	c.send(opFrame("d", 0, "c:3", body))
	if e := c.expectError(protocol.CodeUnavailable); e.ID != "c:3" || !strings.Contains(e.Message, "waiting to be stored") {
		t.Fatalf("refusal %+v: want c:3, waiting to be stored", e)
	}
	thaw()
	for _, id := range []string{"c:1", "c:2"} {
		if m := c.expect("ack"); m.ID != id {
			t.Fatalf("got ack %+v, want %s", m, id)
		}
	}
	if v := resendUntilAcked(t, c, "d", 0, "c:3", body); v != 2 {
		t.Fatalf("c:3 acked at %d, want 2", v)
	}
}
