package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabedit/collab/catalog"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/hub"
	"github.com/collabedit/collab/static"
)

// server is the collaborative editing server, in process: the same
// handlers cmd/server mounts (the WebSocket hub, the document list API,
// the browser client) on a real SQLite event log in a temporary directory.
type server struct {
	addr  string // host:port of the HTTP server
	store *eventlog.Store
}

func startServer(t *testing.T) *server {
	t.Helper()
	return startServerWith(t, hub.Config{})
}

// startServerWith is startServer with the hub configured by cfg.
func startServerWith(t *testing.T, cfg hub.Config) *server {
	t.Helper()
	store, err := eventlog.Open(filepath.Join(t.TempDir(), "events.db"), eventlog.Config{})
	if err != nil {
		t.Fatalf("open event log: %v", err)
	}
	h := hub.New(store, cfg)
	web, err := static.NewHandler()
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /ws", h)
	mux.Handle("GET /api/docs", catalog.New(store))
	mux.Handle("GET /", web)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Close(ctx); err != nil && !errors.Is(err, hub.ErrClosed) {
			t.Errorf("close hub: %v", err)
		}
		srv.Close()
		if err := store.Close(); err != nil {
			t.Errorf("close event log: %v", err)
		}
	})
	return &server{addr: strings.TrimPrefix(srv.URL, "http://"), store: store}
}

// text reads doc from the server as a new client would: open, snapshot.
func (s *server) text(t *testing.T, doc string) (string, int64) {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+s.addr+"/ws", nil)
	if err != nil {
		t.Fatalf("dial server: %v", err)
	}
	defer ws.Close()
	open, _ := json.Marshal(map[string]string{"type": "open", "doc": doc})
	if err := ws.WriteMessage(websocket.TextMessage, open); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("read snapshot of %s: %v", doc, err)
		}
		var m struct {
			Type    string
			Text    string
			Version int64
		}
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		if m.Type == "snapshot" {
			return m.Text, m.Version
		}
	}
}

// seed writes text into the empty document doc, as another client would.
func (s *server) seed(t *testing.T, doc, text string) {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+s.addr+"/ws", nil)
	if err != nil {
		t.Fatalf("dial server: %v", err)
	}
	defer ws.Close()
	for _, m := range []any{
		map[string]any{"type": "open", "doc": doc},
		map[string]any{"type": "op", "doc": doc, "version": 0, "id": "seed:1", "op": []any{text}},
	} {
		if err := ws.WriteJSON(m); err != nil {
			t.Fatal(err)
		}
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var m struct{ Type, Code, Message string }
		if err := ws.ReadJSON(&m); err != nil {
			t.Fatalf("seed %s: %v", doc, err)
		}
		switch m.Type {
		case "ack":
			return
		case "error":
			t.Fatalf("seed %s: %s %s", doc, m.Code, m.Message)
		}
	}
}

// proxy is one page's network path to the server: a TCP proxy on its own
// loopback port that can go offline, or hold the bytes of one direction
// (a stalled network: what was sent is neither delivered nor lost yet).
type proxy struct {
	ln      net.Listener
	backend string

	mu      sync.Mutex
	thawed  *sync.Cond // signalled when held bytes may flow again
	offline bool
	hold    direction
	held    [3]int // by direction: reads waiting to be written while held
	conns   map[net.Conn]struct{}
}

// direction says which way bytes are held: none, or toward the server or
// toward the page.
type direction int

const (
	holdNone direction = iota
	holdUp             // page → server: sent ops do not arrive
	holdDown           // server → page: acks and ops do not arrive
	holdBoth           // both ways: a half-open connection, no FIN, no RST
)

func startProxy(t *testing.T, backend string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, backend: backend, conns: make(map[net.Conn]struct{})}
	p.thawed = sync.NewCond(&p.mu)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.serve()
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		p.cut()
	})
	return p
}

// url is the page address of path through this proxy.
func (p *proxy) url(path string) string { return "http://" + p.ln.Addr().String() + path }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		off := p.offline
		if !off {
			p.conns[c] = struct{}{}
		}
		p.mu.Unlock()
		if off {
			_ = c.Close() // refused: the page sees its socket fail
			continue
		}
		go p.pipe(c)
	}
}

func (p *proxy) pipe(c net.Conn) {
	b, err := net.Dial("tcp", p.backend)
	if err != nil {
		p.drop(c)
		return
	}
	p.mu.Lock()
	p.conns[b] = struct{}{}
	p.mu.Unlock()
	go func() {
		p.copy(b, c, holdUp)
		p.drop(b)
		p.drop(c)
	}()
	p.copy(c, b, holdDown)
	p.drop(c)
	p.drop(b)
}

// copy copies src to dst, waiting before each write while dir is held.
func (p *proxy) copy(dst, src net.Conn, dir direction) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			if p.holds(dir) {
				p.held[dir]++
				for p.holds(dir) {
					p.thawed.Wait()
				}
				p.held[dir]--
			}
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// holds reports whether bytes going the way dir wait; p.mu is held.
func (p *proxy) holds(dir direction) bool { return p.hold == dir || p.hold == holdBoth }

// setHold holds the bytes going one way (holdUp, holdDown) or both
// (holdBoth: the network stalls, nothing is closed) until called
// with holdNone; held bytes are delivered then, unless the connection was
// cut meanwhile.
func (p *proxy) setHold(d direction) {
	p.mu.Lock()
	p.hold = d
	p.mu.Unlock()
	p.thawed.Broadcast()
}

// holding reports whether bytes going the way dir are being held: read
// from one side and not yet written to the other.
func (p *proxy) holding(dir direction) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held[dir] > 0
}

func (p *proxy) drop(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

// cut closes every connection through the proxy.
func (p *proxy) cut() {
	p.mu.Lock()
	conns := p.conns
	p.conns = make(map[net.Conn]struct{})
	p.mu.Unlock()
	for c := range conns {
		_ = c.Close()
	}
}

// setOffline cuts every connection and refuses new ones (true), or lets
// connections through again (false). Held bytes of cut connections are
// lost, as on a real network.
func (p *proxy) setOffline(off bool) {
	p.mu.Lock()
	p.offline = off
	p.mu.Unlock()
	if !off {
		return
	}
	p.cut() // first, so that bytes released below meet closed sockets
	p.setHold(holdNone)
}
