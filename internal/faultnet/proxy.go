package faultnet

import (
	"net"
	"sync"
	"testing"
)

// Proxy is one network path to a server: a TCP proxy on its own loopback
// port that can go offline (connections cut, new ones refused), hold the
// bytes of one Direction or both (a stalled network: what was sent is
// neither delivered nor lost yet), or be partitioned (held both ways,
// and new connections accepted but never connected through: a peer
// behind a partition sees timeouts, never a refusal).
type Proxy struct {
	ln      net.Listener
	backend string

	mu      sync.Mutex
	thawed  *sync.Cond // signalled when held bytes may flow again
	offline bool
	parted  bool // partitioned: new connections wait for Heal
	closed  bool // the test ended: nothing waits any more
	hold    Direction
	held    [3]int // by Direction: reads waiting to be written while held
	conns   map[net.Conn]struct{}
}

// Direction says which way bytes are held: none, toward the backend, away
// from it, or both.
type Direction int

const (
	HoldNone Direction = iota
	HoldUp             // client → backend: what the client sends does not arrive
	HoldDown           // backend → client: answers do not arrive
	HoldBoth           // both ways: a half-open connection, no FIN, no RST
)

// Start runs a proxy to backend (host:port) until the test ends.
func Start(t testing.TB, backend string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, backend: backend, conns: make(map[net.Conn]struct{})}
	p.thawed = sync.NewCond(&p.mu)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.serve()
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		p.thawed.Broadcast()
		p.Cut()
	})
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL is the http address of path through this proxy.
func (p *Proxy) URL(path string) string { return "http://" + p.Addr() + path }

func (p *Proxy) serve() {
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

func (p *Proxy) pipe(c net.Conn) {
	p.mu.Lock()
	for p.parted && !p.closed {
		p.thawed.Wait() // behind a partition: connected, and nothing comes through
	}
	p.mu.Unlock()
	b, err := net.Dial("tcp", p.backend)
	if err != nil {
		p.drop(c)
		return
	}
	p.mu.Lock()
	p.conns[b] = struct{}{}
	p.mu.Unlock()
	go func() {
		p.copy(b, c, HoldUp)
		p.drop(b)
		p.drop(c)
	}()
	p.copy(c, b, HoldDown)
	p.drop(c)
	p.drop(b)
}

// copy copies src to dst, waiting before each write while dir is held.
func (p *Proxy) copy(dst, src net.Conn, dir Direction) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			if p.holds(dir) {
				p.held[dir]++
				for p.holds(dir) && !p.closed {
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
func (p *Proxy) holds(dir Direction) bool { return p.hold == dir || p.hold == HoldBoth }

// Hold holds the bytes going one way (HoldUp, HoldDown) or both
// (HoldBoth: the network stalls, nothing is closed) until called
// with HoldNone; held bytes are delivered then, unless the connection was
// cut meanwhile.
func (p *Proxy) Hold(d Direction) {
	p.mu.Lock()
	p.hold = d
	p.mu.Unlock()
	p.thawed.Broadcast()
}

// Holding reports whether bytes going the way dir are being held: read
// from one side and not yet written to the other.
func (p *Proxy) Holding(dir Direction) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held[dir] > 0
}

func (p *Proxy) drop(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

// Cut closes every connection through the proxy.
func (p *Proxy) Cut() {
	p.mu.Lock()
	conns := p.conns
	p.conns = make(map[net.Conn]struct{})
	p.mu.Unlock()
	for c := range conns {
		_ = c.Close()
	}
}

// SetOffline cuts every connection and refuses new ones (true), or lets
// connections through again (false). Held bytes of cut connections are
// lost, as on a real network.
func (p *Proxy) SetOffline(off bool) {
	p.mu.Lock()
	p.offline = off
	p.mu.Unlock()
	if !off {
		return
	}
	p.Cut() // first, so that bytes released below meet closed sockets
	p.Hold(HoldNone)
}

// Partition cuts the path without a word: bytes stop both ways on open
// connections, and new connections are accepted but go nowhere, so the
// client sees its calls time out, never a refused or reset connection,
// as behind a real network partition. Heal ends it; bytes held are then
// delivered, as TCP retransmission would.
func (p *Proxy) Partition() {
	p.mu.Lock()
	p.parted, p.hold = true, HoldBoth
	p.mu.Unlock()
}

// Heal ends a partition (or a Hold).
func (p *Proxy) Heal() {
	p.mu.Lock()
	p.parted, p.hold = false, HoldNone
	p.mu.Unlock()
	p.thawed.Broadcast()
}
