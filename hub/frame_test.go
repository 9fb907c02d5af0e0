package hub

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// TestFrameWriterSpeaksWebSocket writes frames of every header size with
// frameWriter on an upgraded socket and reads them back with gorilla's
// client, which checks framing strictly.
func TestFrameWriterSpeaksWebSocket(t *testing.T) {
	t.Parallel()
	payloads := [][]byte{[]byte("{}"), bytes.Repeat([]byte("a"), 125), bytes.Repeat([]byte("b"), 126),
		bytes.Repeat([]byte("c"), 65535), bytes.Repeat([]byte("d"), 65536), []byte(strings.Repeat("😀", 40000))}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		defer ws.Close()
		var fw frameWriter
		for _, batch := range [][][]byte{payloads[:3], payloads[3:]} {
			if _, err := fw.write(ws.NetConn(), batch); err != nil {
				t.Error(err)
			}
		}
		_, _, _ = ws.ReadMessage() // wait for the client to finish
	}))
	defer srv.Close()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	for i, want := range payloads {
		typ, got, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if typ != websocket.TextMessage || !bytes.Equal(got, want) {
			t.Fatalf("frame %d: type %d, %d bytes; want text, %d bytes", i, typ, len(got), len(want))
		}
	}
}
