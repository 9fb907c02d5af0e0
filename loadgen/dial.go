package loadgen

import (
	"fmt"
	"net"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// maxSourceAddrs: 127.0.0.1 … 127.0.0.254.
const maxSourceAddrs = 254

// dialers hands out WebSocket dialers round-robin over source addresses.
// Linux gives each (source address, destination) pair about 28,000
// ephemeral ports (net.ipv4.ip_local_port_range 32768-60999), so more
// connections than that to one server need more source addresses; every
// 127.0.0.0/8 address is local, so on loopback they cost nothing.
type dialers struct {
	ds   []*websocket.Dialer
	next atomic.Uint64
}

// newDialers returns n dialers bound to 127.0.0.1…127.0.0.n, or one
// unbound dialer if n ≤ 1. bufSize sets both socket buffer sizes of the
// connections (0: gorilla's default, 4 KB).
func newDialers(n, bufSize int, timeout time.Duration) (*dialers, error) {
	if n > maxSourceAddrs {
		return nil, fmt.Errorf("source addresses: %d is over the %d of 127.0.0.0/24", n, maxSourceAddrs)
	}
	d := &dialers{}
	for i := range max(n, 1) {
		nd := &net.Dialer{Timeout: timeout, KeepAlive: -1}
		if n > 1 {
			nd.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(i+1))}
		}
		d.ds = append(d.ds, &websocket.Dialer{
			NetDialContext:   nd.DialContext,
			HandshakeTimeout: timeout,
			ReadBufferSize:   bufSize,
			WriteBufferSize:  bufSize,
		})
	}
	return d, nil
}

// pick returns the next dialer in turn.
func (d *dialers) pick() *websocket.Dialer {
	return d.ds[(d.next.Add(1)-1)%uint64(len(d.ds))]
}

// endpoints are the server URLs clients are spread over.
type endpoints []string

// normalizeURLs checks each URL and gives a bare ws://host:port the
// server's /ws path.
func normalizeURLs(raw []string) (endpoints, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("no server url")
	}
	out := make(endpoints, len(raw))
	for i, s := range raw {
		u, err := url.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("server url %q: %w", s, err)
		}
		if u.Scheme != "ws" && u.Scheme != "wss" {
			return nil, fmt.Errorf("server url %q: want ws:// or wss://", s)
		}
		if u.Path == "" || u.Path == "/" {
			u.Path = "/ws"
		}
		out[i] = u.String()
	}
	return out, nil
}

// forClient returns client i's URL and, as fallbacks, the others in turn
// after it, so clients spread evenly and a dead process's clients spread
// over the rest.
func (e endpoints) forClient(i int) (string, []string) {
	n := len(e)
	first := e[i%n]
	var rest []string
	for k := 1; k < n; k++ {
		rest = append(rest, e[(i+k)%n])
	}
	return first, rest
}

// metricsURLs derives each server's /metrics URL (http for ws, https for
// wss), without duplicates.
func (e endpoints) metricsURLs() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range e {
		u, err := url.Parse(s)
		if err != nil {
			continue
		}
		u.Scheme = map[string]string{"ws": "http", "wss": "https"}[u.Scheme]
		u.Path, u.RawQuery = "/metrics", ""
		if m := u.String(); !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out
}
