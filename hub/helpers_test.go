package hub_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/hub/hubtest"
	"github.com/collabedit/collab/protocol"
)

type testServer = hubtest.Server

func startServer(tb testing.TB, cfg hub.Config) *testServer {
	tb.Helper()
	return hubtest.Start(tb, cfg)
}

// wsClient speaks the raw protocol, for tests of exact server behaviour.
type wsClient struct {
	tb testing.TB
	ws *websocket.Conn
}

func dial(tb testing.TB, url string) *wsClient {
	tb.Helper()
	return dialHeader(tb, url, nil)
}

func dialHeader(tb testing.TB, url string, h http.Header) *wsClient {
	tb.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(url, h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		tb.Fatalf("dial %s: %v (status %d)", url, err, status)
	}
	tb.Cleanup(func() { _ = ws.Close() })
	return &wsClient{tb: tb, ws: ws}
}

func (c *wsClient) send(frame string) {
	c.tb.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		c.tb.Fatalf("send %s: %v", frame, err)
	}
}

func (c *wsClient) read() protocol.Message {
	c.tb.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := c.ws.ReadMessage()
	if err != nil {
		c.tb.Fatalf("read: %v", err)
	}
	m, err := protocol.DecodeMessage(data)
	if err != nil {
		c.tb.Fatalf("decode %s: %v", data, err)
	}
	return m
}

// expect reads the next message and fails unless it has type typ.
func (c *wsClient) expect(typ string) protocol.Message {
	c.tb.Helper()
	m := c.read()
	if m.Type != typ {
		c.tb.Fatalf("got %+v, want a %q message", m, typ)
	}
	return m
}

func (c *wsClient) expectError(code protocol.Code) protocol.Message {
	c.tb.Helper()
	m := c.expect(protocol.TypeError)
	if m.Code != code {
		c.tb.Fatalf("got error %s (%s), want %s", m.Code, m.Message, code)
	}
	if m.Message == "" {
		c.tb.Fatalf("error %s has no message", m.Code)
	}
	return m
}

// open opens doc without a version and returns the snapshot.
func (c *wsClient) open(doc string) protocol.Message {
	c.tb.Helper()
	c.send(`{"type":"open","doc":"` + doc + `"}`)
	return c.expect(protocol.TypeSnapshot)
}

// closeCode reads until the server closes the socket and returns its code.
func (c *wsClient) closeCode() int {
	c.tb.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := c.ws.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code
			}
			c.tb.Fatalf("connection ended without a close frame: %v", err)
		}
	}
}
