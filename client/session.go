package client

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"
)

const (
	writeTimeout = 10 * time.Second
	// readTimeout bounds the silence tolerated from the server. The hub
	// pings every 25s, so a healthy connection never gets near it.
	readTimeout = 90 * time.Second
)

// session is one WebSocket connection: a reader goroutine that hands every
// frame to handle, and the socket's only writer goroutine, which drains
// out. Both stop when the socket fails or ctx is cancelled; done is closed
// once both have returned.
type session struct {
	url    string // the endpoint dialled, for Config.OnConnect/OnDisconnect
	ws     *websocket.Conn
	log    zerolog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	out    outbox
	wg     sync.WaitGroup
	done   chan struct{}
	err    error // why the session ended; read after done
	// refreshing: a fresh token was sent on this session and not yet
	// answered (Config.Token); read and written on its reader goroutine.
	refreshing bool
}

func newSession(parent context.Context, url string, ws *websocket.Conn, log zerolog.Logger) *session {
	ctx, cancel := context.WithCancel(parent)
	return &session{url: url, ws: ws, log: log, ctx: ctx, cancel: cancel,
		out: outbox{wake: make(chan struct{}, 1)}, done: make(chan struct{})}
}

// start runs the reader and the writer; handle is called on the reader
// goroutine for each text frame.
func (s *session) start(handle func(*session, []byte)) {
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.err = s.readLoop(handle)
		s.cancel()
	}()
	go func() {
		defer s.wg.Done()
		s.writeLoop()
	}()
	go func() {
		s.wg.Wait()
		_ = s.ws.Close()
		close(s.done)
	}()
}

// send queues a frame; it never blocks. Frames sent after the session died
// are dropped: the next session reopens every document and resends.
func (s *session) send(frame []byte) { s.out.push(frame) }

// alive reports whether the session is still running.
func (s *session) alive() bool { return s.ctx.Err() == nil }

// drop closes the socket without a close frame, as a network cut would.
func (s *session) drop() { _ = s.ws.NetConn().Close() }

func (s *session) readLoop(handle func(*session, []byte)) error {
	_ = s.ws.SetReadDeadline(time.Now().Add(readTimeout))
	s.ws.SetPingHandler(func(data string) error {
		_ = s.ws.SetReadDeadline(time.Now().Add(readTimeout))
		err := s.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeTimeout))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	for {
		typ, data, err := s.ws.ReadMessage()
		if err != nil {
			return err
		}
		_ = s.ws.SetReadDeadline(time.Now().Add(readTimeout))
		if typ == websocket.TextMessage {
			handle(s, data)
		}
	}
}

func (s *session) writeLoop() {
	var spare [][]byte
	for {
		select {
		case <-s.ctx.Done():
			// Say goodbye if the socket still works; the reader may be
			// blocked, so the socket is closed by start's waiter too.
			_ = s.ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			_ = s.ws.NetConn().Close()
			return
		case <-s.out.wake:
		}
		frames := s.out.take(spare)
		if err := s.write(frames); err != nil {
			s.log.Debug().Err(err).Msg("write failed")
			s.cancel()
			continue
		}
		clear(frames)
		spare = frames
	}
}

func (s *session) write(frames [][]byte) error {
	if len(frames) == 0 {
		return nil
	}
	if err := s.ws.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return err
	}
	for _, f := range frames {
		if err := s.ws.WriteMessage(websocket.TextMessage, f); err != nil {
			return err
		}
	}
	return nil
}

// outbox is an unbounded queue of frames: a document's state machine must
// never block on the socket while it holds its lock. It is bounded in
// practice by the protocol: at most one op in flight per document.
type outbox struct {
	mu     sync.Mutex
	frames [][]byte
	wake   chan struct{}
}

func (o *outbox) push(frame []byte) {
	o.mu.Lock()
	o.frames = append(o.frames, frame)
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *outbox) take(spare [][]byte) [][]byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	frames := o.frames
	o.frames = spare[:0]
	return frames
}
