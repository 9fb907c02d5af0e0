package clientaddr

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver finds client addresses. The zero value trusts no proxy.
type Resolver struct {
	// Trusted are the prefixes of the reverse proxies whose
	// X-Forwarded-For is believed.
	Trusted []netip.Prefix
}

// Of returns the client address of r: its TCP peer, or, when that peer is
// a trusted proxy, the address X-Forwarded-For names (see Forwarded).
// The result is invalid only when r.RemoteAddr is not an IP address
// (e.g. a test's fake request).
func (res Resolver) Of(r *http.Request) netip.Addr {
	return res.Forwarded(Peer(r.RemoteAddr), r.Header.Values("X-Forwarded-For"))
}

// Forwarded returns the client address given the TCP peer and the
// X-Forwarded-For header values (several headers are one list, in order).
// The list is walked from the right, the entries closest to us: while the
// address that handed the request on is a trusted proxy, its left
// neighbour is the one before it. The first untrusted address is the
// client; entries left of it could be written by the client and are never
// believed. A malformed entry stops the walk at the last trusted proxy (a
// trusted proxy wrote garbage: the proxy is the best we know). If every
// entry is trusted, the leftmost is the client.
func (res Resolver) Forwarded(peer netip.Addr, xff []string) netip.Addr {
	if !peer.IsValid() || !res.trusted(peer) {
		return peer
	}
	hops := splitList(xff)
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parse(hops[i])
		if !ok {
			return client
		}
		client = a
		if !res.trusted(a) {
			return a
		}
	}
	return client
}

func (res Resolver) trusted(a netip.Addr) bool {
	for _, p := range res.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Peer parses a net/http RemoteAddr ("ip:port", or a bare IP); the
// result is invalid if it holds no IP address.
func Peer(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap()
	}
	a, _ := parse(remote)
	return a
}

// parse reads one X-Forwarded-For entry: an IP, possibly with a port or
// in brackets, as some proxies write them.
func parse(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return a.Unmap(), true
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(host); err == nil {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		out = append(out, strings.Split(v, ",")...)
	}
	return out
}

// Key is the group a per-address limit counts a at: the IPv4 address
// itself, or an IPv6 address's /64 prefix. One IPv6 host is usually given
// a whole /64 and may pick any address in it (privacy addresses change
// daily), so counting single IPv6 addresses would let it open sockets
// without bound. An invalid address is the key "unknown".
func Key(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return "unknown"
	case a.Is4():
		return a.String()
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.String()
}

// ParsePrefixes parses a comma-separated list of CIDR prefixes (a bare
// address is its own /32 or /128), for the -trusted-proxies flag.
func ParsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, &PrefixError{Value: s, Err: err}
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, &PrefixError{Value: s, Err: err}
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// PrefixError is a malformed entry of a prefix list.
type PrefixError struct {
	Value string
	Err   error
}

func (e *PrefixError) Error() string { return "trusted proxy " + e.Value + ": " + e.Err.Error() }

// Unwrap returns the parse error.
func (e *PrefixError) Unwrap() error { return e.Err }
