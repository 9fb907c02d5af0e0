package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabedit/collab/protocol"
)

// rawConn is a bare WebSocket connection that speaks just enough of the
// protocol for watching readers, pipelined replay and idle connections.
// One goroutine reads; writes happen before reading starts or from one
// other goroutine (gorilla allows one reader and one writer at a time;
// its ping handler answers with WriteControl, which may run concurrently).
type rawConn struct {
	ws  *websocket.Conn
	buf bytes.Buffer // every frame is read into it: no allocation per frame
}

// dialRaw connects to url.
func dialRaw(ctx context.Context, d *websocket.Dialer, url string) (*rawConn, error) {
	ws, resp, err := d.DialContext(ctx, url, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	return &rawConn{ws: ws}, nil
}

// send writes one text frame.
func (c *rawConn) send(frame []byte) error {
	if err := c.ws.WriteMessage(websocket.TextMessage, frame); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}

// read returns the next text frame; it is valid until the next read.
func (c *rawConn) read() ([]byte, error) {
	for {
		typ, r, err := c.ws.NextReader()
		if err != nil {
			return nil, err
		}
		c.buf.Reset()
		if _, err := c.buf.ReadFrom(r); err != nil {
			return nil, err
		}
		if typ == websocket.TextMessage {
			return c.buf.Bytes(), nil
		}
	}
}

// awaitOpen reads until the answer to an open (snapshot or opened) and
// returns its version; catch-up ops before it go to onOp. An error frame
// fails the open.
func (c *rawConn) awaitOpen(timeout time.Duration, onOp func(version int64)) (int64, error) {
	_ = c.ws.SetReadDeadline(time.Now().Add(timeout))
	defer func() { _ = c.ws.SetReadDeadline(time.Time{}) }()
	for {
		b, err := c.read()
		if err != nil {
			return 0, fmt.Errorf("await open: %w", err)
		}
		kind, v, ok := scanFrame(b)
		switch {
		case ok && (kind == kindSnapshot || kind == kindOpened):
			return v, nil
		case ok && kind == kindOp:
			onOp(v)
		case kind == kindError:
			return 0, fmt.Errorf("open refused: %w", decodeError(b))
		}
	}
}

// decodeError turns an error frame into its *protocol.Error.
func decodeError(b []byte) error {
	m, err := protocol.DecodeMessage(b)
	if err != nil {
		return err
	}
	return m.Err()
}

// close says goodbye and closes the socket; safe from any goroutine, and
// it unblocks a pending read.
func (c *rawConn) close() {
	_ = c.ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	_ = c.ws.Close()
}
