package hub_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/internal/poll"
	"github.com/collabedit/collab/protocol"
)

// TestBadInputIsAnsweredAndLosesNothing sends every refused case of the
// contract's error table on one connection, which must stay open, and then
// checks the document was not touched.
func TestBadInputIsAnsweredAndLosesNothing(t *testing.T) {
	t.Parallel()
	s := startServer(t, hub.Config{MaxMessageBytes: 4096, MaxDocLen: 20})
	c := dial(t, s.URL)
	c.open("d")
	c.send(`{"type":"op","doc":"d","version":0,"id":"ok:1","op":["hello"]}`)
	c.expect("ack")
	cases := []struct {
		name  string
		frame string
		code  protocol.Code
	}{
		{"not json", `hello`, protocol.CodeBadRequest},
		{"not an object", `[1,2]`, protocol.CodeBadRequest},
		{"empty object", `{}`, protocol.CodeBadRequest},
		{"unknown type", `{"type":"edit","doc":"d"}`, protocol.CodeBadRequest},
		{"type not a string", `{"type":1,"doc":"d"}`, protocol.CodeBadRequest},
		{"missing doc", `{"type":"open"}`, protocol.CodeBadRequest},
		{"doc not a string", `{"type":"open","doc":7}`, protocol.CodeBadRequest},
		{"bad doc id", `{"type":"open","doc":"no spaces"}`, protocol.CodeBadRequest},
		{"doc id too long", `{"type":"open","doc":"` + strings.Repeat("a", 129) + `"}`, protocol.CodeBadRequest},
		{"missing op id", `{"type":"op","doc":"d","version":1,"op":["x"]}`, protocol.CodeBadRequest},
		{"missing version", `{"type":"op","doc":"d","id":"c:1","op":["x"]}`, protocol.CodeBadRequest},
		{"version a string", `{"type":"op","doc":"d","version":"1","id":"c:1","op":["x"]}`, protocol.CodeBadRequest},
		{"version a float", `{"type":"op","doc":"d","version":1.5,"id":"c:1","op":["x"]}`, protocol.CodeBadRequest},
		{"missing op", `{"type":"op","doc":"d","version":1,"id":"c:1"}`, protocol.CodeBadRequest},
		{"op on a document not open", `{"type":"op","doc":"other","version":0,"id":"c:1","op":["x"]}`, protocol.CodeNotOpen},
		{"close of a document not open", `{"type":"close","doc":"other"}`, protocol.CodeNotOpen},
		{"negative version", `{"type":"op","doc":"d","version":-1,"id":"c:1","op":["x"]}`, protocol.CodeBadVersion},
		{"version from the future", `{"type":"op","doc":"d","version":2,"id":"c:1","op":["x"]}`, protocol.CodeBadVersion},
		{"zero component", `{"type":"op","doc":"d","version":1,"id":"c:1","op":[0]}`, protocol.CodeInvalidOp},
		{"empty insert", `{"type":"op","doc":"d","version":1,"id":"c:1","op":[""]}`, protocol.CodeInvalidOp},
		{"float component", `{"type":"op","doc":"d","version":1,"id":"c:1","op":[1.5]}`, protocol.CodeInvalidOp},
		{"object component", `{"type":"op","doc":"d","version":1,"id":"c:1","op":[{}]}`, protocol.CodeInvalidOp},
		{"nested array", `{"type":"op","doc":"d","version":1,"id":"c:1","op":[[1]]}`, protocol.CodeInvalidOp},
		{"op not an array", `{"type":"op","doc":"d","version":1,"id":"c:1","op":"x"}`, protocol.CodeInvalidOp},
		{"retain past the end", `{"type":"op","doc":"d","version":1,"id":"c:1","op":[6,"x"]}`, protocol.CodeInvalidOp},
		{"delete past the end", `{"type":"op","doc":"d","version":1,"id":"c:1","op":[-6]}`, protocol.CodeInvalidOp},
		{"document over the limit", `{"type":"op","doc":"d","version":1,"id":"c:1","op":["` + strings.Repeat("😀", 16) + `"]}`, protocol.CodeTooLarge},
		{"message over the limit", `{"type":"op","doc":"d","version":1,"id":"c:1","op":["` + strings.Repeat("x", 5000) + `"]}`, protocol.CodeTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.tb = t
			c.send(tc.frame)
			m := c.expectError(tc.code)
			if tc.code == protocol.CodeInvalidOp && (m.Doc != "d" || m.ID != "c:1") {
				t.Fatalf("error does not name the op: %+v", m)
			}
		})
	}
	c.tb = t
	if err := c.ws.WriteMessage(websocket.BinaryMessage, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	c.expectError(protocol.CodeBadRequest)
	// The connection is still usable and the document untouched.
	if h := s.Head(t, "d"); h != 1 {
		t.Fatalf("stored version %d after refused ops, want 1", h)
	}
	c.send(`{"type":"op","doc":"d","version":1,"id":"ok:2","op":[5,"!"]}`)
	if ack := c.expect("ack"); ack.Version != 1 {
		t.Fatalf("ack at %d, want 1", ack.Version)
	}
	if snap := dial(t, s.URL).open("d"); snap.Text != "hello!" {
		t.Fatalf("text %q, want hello!", snap.Text)
	}
}

func TestFrameOverHardLimitCloses(t *testing.T) {
	t.Parallel()
	s := startServer(t, hub.Config{MaxMessageBytes: 1024})
	c := dial(t, s.URL)
	c.send(`{"type":"open","doc":"` + strings.Repeat("a", 5000) + `"}`)
	if code := c.closeCode(); code != protocol.CloseTooLarge {
		t.Fatalf("close code %d, want %d", code, protocol.CloseTooLarge)
	}
}

func TestRateLimited(t *testing.T) {
	t.Parallel()
	s := startServer(t, hub.Config{RatePerSecond: 0.001, RateBurst: 3})
	c := dial(t, s.URL)
	c.open("d")
	c.send(`{"type":"close","doc":"d"}`)
	c.send(`{"type":"open","doc":"d"}`)
	c.expect("snapshot")
	c.send(`{"type":"open","doc":"d"}`)
	c.expectError(protocol.CodeRateLimited)
}

// TestSlowConsumerIsDroppedWithoutSlowingOthers: a reader that never reads
// is closed with 4001 once its queue passes the limit, while the writer
// keeps getting acks.
func TestSlowConsumerIsDroppedWithoutSlowingOthers(t *testing.T) {
	t.Parallel()
	s := startServer(t, hub.Config{MaxQueueBytes: 64 << 10, MaxMessageBytes: 256 << 10, InsertRate: 1e9})
	w := dial(t, s.URL)
	w.open("d")
	slow := dial(t, s.URL)
	slow.open("d") // and then never reads until the end
	body := strings.Repeat("x", 100<<10)
	dropped := false
	for i := 0; i < 400 && !dropped; i++ {
		op := `["` + body + `"]`
		if i > 0 {
			op = `[-` + itoa(len(body)) + `,"` + body + `"]`
		}
		w.send(`{"type":"op","doc":"d","version":` + itoa(i) + `,"id":"w:` + itoa(i) + `","op":` + op + `}`)
		w.expect("ack")
		dropped = s.Hub.Stats().SlowConsumers > 0
	}
	if !dropped {
		t.Fatal("slow reader was never dropped")
	}
	if code := slow.closeCode(); code != protocol.CloseSlowConsumer {
		t.Fatalf("close code %d, want %d", code, protocol.CloseSlowConsumer)
	}
}

func TestIdleDocumentUnloads(t *testing.T) {
	t.Parallel()
	// IdleTimeout longer than ClusterTick: the room's periodic tick must
	// not keep postponing the unload.
	s := startServer(t, hub.Config{IdleTimeout: 200 * time.Millisecond, ClusterTick: 20 * time.Millisecond})
	c := dial(t, s.URL)
	c.open("d")
	c.send(`{"type":"op","doc":"d","version":0,"id":"c:1","op":["x"]}`)
	c.expect("ack")
	if n := s.Hub.Stats().Documents; n != 1 {
		t.Fatalf("%d documents loaded, want 1", n)
	}
	c.send(`{"type":"close","doc":"d"}`)
	poll.Until(t, "the document to unload", func() bool { return s.Hub.Stats().Documents == 0 })
	// Reopening loads it again from the log.
	if snap := c.open("d"); snap.Text != "x" || snap.Version != 1 {
		t.Fatalf("reloaded %+v", snap)
	}
}
