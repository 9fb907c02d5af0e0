package hub_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/protocol"
)

// opFrame is an op inserting text at the start of doc.
func opFrame(doc string, version int, id, text string) string {
	return fmt.Sprintf(`{"type":"op","doc":%q,"version":%d,"id":%q,"op":[%q]}`, doc, version, id, text)
}

// TestHistoryBoundedInBytes: a document's history window holds at most
// HistoryBytes however large its ops, and all of it is released when the
// document unloads. Before the bound, a thousand 900 KB ops stayed in
// memory per document (1.8 GB measured).
func TestHistoryBoundedInBytes(t *testing.T) {
	t.Parallel()
	const opBytes = 100 << 10
	s := startServer(t, hub.Config{HistoryBytes: 1 << 20, InsertRate: 1e9, MaxMessageBytes: 1 << 20})
	c := dial(t, s.URL)
	c.open("big")
	body := strings.Repeat("x", opBytes)
	for i := 0; i < 30; i++ {
		c.send(opFrame("big", i, fmt.Sprintf("c:%d", i), body))
		c.expect("ack")
	}
	// An entry costs its frame plus twice its text: ~300 KB here.
	if got := s.Hub.Stats().HistoryBytes; got > 1<<20+3*opBytes {
		t.Fatalf("history holds %d bytes, over the 1 MiB bound plus one op", got)
	}
	// A stale op from before the window is still transformed (from the log).
	c.send(opFrame("big", 0, "c:stale", "y"))
	if m := c.expect("ack"); m.Version != 30 {
		t.Fatalf("stale op acked at %d, want 30", m.Version)
	}
}

// TestUnloadReleasesMemory: a document's memory is given back to the heap
// when it unloads after its idle timeout.
func TestUnloadReleasesMemory(t *testing.T) {
	// Not parallel: it measures the process's heap, which other tests move.
	const ops, opBytes = 20, 512 << 10
	s := startServer(t, hub.Config{HistoryBytes: 64 << 20, InsertRate: 1e9, MaxDocLen: 32 << 20,
		IdleTimeout: 100 * time.Millisecond, ClusterTick: 20 * time.Millisecond})
	c := dial(t, s.URL)
	c.open("big")
	body := strings.Repeat("x", opBytes)
	for i := 0; i < ops; i++ {
		c.send(opFrame("big", i, fmt.Sprintf("c:%d", i), body))
		c.expect("ack")
	}
	loaded := heapAlloc()
	held := s.Hub.Stats().HistoryBytes
	if held < ops*opBytes {
		t.Fatalf("history holds %d bytes, want at least %d", held, ops*opBytes)
	}
	c.send(`{"type":"close","doc":"big"}`)
	poll.Until(t, "the document to unload", func() bool { return s.Hub.Stats().Documents == 0 })
	if got := s.Hub.Stats().HistoryBytes; got != 0 {
		t.Fatalf("history gauge at %d bytes after unload", got)
	}
	// The text (10 MB) and the history window (≥ 20 MB) are gone.
	if after := heapAlloc(); loaded-after < uint64(held) {
		t.Fatalf("heap %d MB while loaded, %d MB after unloading a document that held %d MB", loaded>>20, after>>20, held>>20)
	}
	// And handed back to the operating system, not kept by the runtime
	// for later (the background scavenger alone takes minutes).
	poll.Until(t, "freed memory to be returned to the OS", func() bool { return retainedFree() < 16<<20 })
}

// retainedFree is heap memory the runtime holds free but has not
// returned to the operating system: what a process's RSS keeps after a
// big document is gone.
func retainedFree() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func heapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestInsertRateLimited: the text one connection inserts is bounded in
// bytes per second; an op over it is refused with rate_limited naming the
// op, nothing is applied, and the same op is accepted once the bucket has
// refilled.
func TestInsertRateLimited(t *testing.T) {
	t.Parallel()
	s := startServer(t, hub.Config{InsertRate: 200 << 10, InsertBurst: 256 << 10, MaxMessageBytes: 256 << 10})
	c, other := dial(t, s.URL), dial(t, s.URL)
	c.open("d")
	other.open("d")
	body := strings.Repeat("x", 200<<10)
	c.send(opFrame("d", 0, "c:1", body))
	c.expect("ack")
	c.send(opFrame("d", 1, "c:2", body))
	if e := c.expectError(protocol.CodeRateLimited); e.ID != "c:2" || e.Doc != "d" {
		t.Fatalf("refusal %+v does not name the op", e)
	}
	// Another connection has its own bucket.
	other.expect("op")
	other.send(opFrame("d", 1, "o:1", "y"))
	other.expect("ack")
	time.Sleep(time.Second) // time itself is the subject: 200 KB/s refills the 200 KB the op needs
	c.send(opFrame("d", 1, "c:2", body))
	if m := c.expect("op"); m.ID != "o:1" {
		t.Fatalf("got %+v", m)
	}
	if m := c.expect("ack"); m.Version != 2 {
		t.Fatalf("resent op acked at %d, want 2", m.Version)
	}
	if h := s.Head(t, "d"); h != 3 {
		t.Fatalf("log at version %d, want 3: the refused op must not have been applied", h)
	}
}

// TestCatchUpBoundedInBytes: a reconnecting client whose missed ops would
// not fit the send queue gets a snapshot instead of being closed with 4001
// on every reconnect; a small catch-up is still served op by op.
func TestCatchUpBoundedInBytes(t *testing.T) {
	t.Parallel()
	s := startServer(t, hub.Config{MaxQueueBytes: 1 << 20, InsertRate: 1e9}) // catch-up ≤ 256 KB
	c := dial(t, s.URL)
	c.open("d")
	body := strings.Repeat("x", 50<<10)
	for i := 0; i < 10; i++ {
		c.send(opFrame("d", i, fmt.Sprintf("c:%d", i), body))
		c.expect("ack")
	}
	far := dial(t, s.URL)
	far.send(`{"type":"open","doc":"d","version":0}`)
	if m := far.expect("snapshot"); m.Version != 10 {
		t.Fatalf("snapshot at %d", m.Version)
	}
	near := dial(t, s.URL)
	near.send(`{"type":"open","doc":"d","version":8}`)
	for v := int64(8); v < 10; v++ {
		if m := near.expect("op"); m.Version != v {
			t.Fatalf("catch-up op at %d, want %d", m.Version, v)
		}
	}
	near.expect("opened")
}

// TestInvalidUTF8Closes: a text frame that is not UTF-8 fails the
// connection with 1007 (RFC 6455 §8.1) and stores nothing; before, it was
// decoded with U+FFFD in place of the bad bytes and applied.
func TestInvalidUTF8Closes(t *testing.T) {
	t.Parallel()
	s := startServer(t, hub.Config{})
	c := dial(t, s.URL)
	c.open("d")
	bad := []byte(`{"type":"op","doc":"d","version":0,"id":"c:1","op":["a` + "\xff\xfe" + `"]}`)
	if err := c.ws.WriteMessage(websocket.TextMessage, bad); err != nil {
		t.Fatal(err)
	}
	if code := c.closeCode(); code != protocol.CloseInvalidPayload {
		t.Fatalf("close code %d, want 1007", code)
	}
	if h := s.Head(t, "d"); h != 0 {
		t.Fatalf("log at version %d: the op was applied", h)
	}
}

// TestOpenAnnouncesLimits: an open with "limits":true gets the server's
// limits, as configured, before its snapshot (protocol §17); an open
// without it (a v1 client) gets none.
func TestOpenAnnouncesLimits(t *testing.T) {
	t.Parallel()
	s := startServer(t, hub.Config{MaxMessageBytes: 64 << 10, MaxDocLen: 5000, InsertRate: 1000, InsertBurst: 100 << 10, RatePerSecond: 50, RateBurst: 70})
	c := dial(t, s.URL)
	c.send(`{"type":"open","doc":"lim","limits":true}`)
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := c.ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	want := map[string]any{"type": "limits", "doc": "lim", "maxMessageBytes": 65536.0, "maxDocLen": 5000.0,
		"maxInsertBytes": 102400.0, "insertRate": 1000.0, "messageRate": 50.0, "messageBurst": 70.0}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("first answer %s, want %v", data, want)
	}
	c.expect(protocol.TypeSnapshot)
	// A v1 open on another connection: the snapshot comes first.
	d := dial(t, s.URL)
	d.open("lim")
}
