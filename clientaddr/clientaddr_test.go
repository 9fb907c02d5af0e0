package clientaddr

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestForwarded(t *testing.T) {
	t.Parallel()
	res := Resolver{Trusted: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("fd00::/8"),
	}}
	for _, tc := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"no header", "203.0.113.7:5000", nil, "203.0.113.7"},
		{"spoofed header from untrusted peer ignored", "203.0.113.7:5000", []string{"1.2.3.4"}, "203.0.113.7"},
		{"trusted proxy, one hop", "10.0.0.2:443", []string{"198.51.100.9"}, "198.51.100.9"},
		{"trusted proxy, no header", "10.0.0.2:443", nil, "10.0.0.2"},
		{"client-written entries left of the client ignored", "10.0.0.2:443", []string{"1.1.1.1, 198.51.100.9"}, "198.51.100.9"},
		{"chain of trusted proxies skipped", "10.0.0.2:443", []string{"198.51.100.9, 10.1.1.1", "10.2.2.2"}, "198.51.100.9"},
		{"all trusted: leftmost", "10.0.0.2:443", []string{"10.9.9.9, 10.1.1.1"}, "10.9.9.9"},
		{"IPv6 peer and client", "[fd00::1]:443", []string{"2001:db8::5"}, "2001:db8::5"},
		{"IPv4-mapped peer", "[::ffff:10.0.0.2]:443", []string{"198.51.100.9"}, "198.51.100.9"},
		{"entry with port", "10.0.0.2:443", []string{"198.51.100.9:1234"}, "198.51.100.9"},
		{"bracketed IPv6 entry with port", "10.0.0.2:443", []string{"[2001:db8::5]:99"}, "2001:db8::5"},
		{"malformed rightmost: the proxy", "10.0.0.2:443", []string{"198.51.100.9, not-an-ip"}, "10.0.0.2"},
		{"malformed left of the client ignored", "10.0.0.2:443", []string{"garbage, 198.51.100.9"}, "198.51.100.9"},
		{"malformed after a trusted hop: that hop", "10.0.0.2:443", []string{"garbage, 10.1.1.1"}, "10.1.1.1"},
		{"empty entries", "10.0.0.2:443", []string{""}, "10.0.0.2"},
	} {
		r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := res.Of(r); got.String() != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestNoTrustedProxies(t *testing.T) {
	t.Parallel()
	r := &http.Request{RemoteAddr: "10.0.0.2:443", Header: http.Header{"X-Forwarded-For": {"1.2.3.4"}}}
	if got := (Resolver{}).Of(r); got.String() != "10.0.0.2" {
		t.Fatalf("got %s: the header must be ignored without trusted proxies", got)
	}
}

func TestKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"203.0.113.7":          "203.0.113.7",
		"::ffff:203.0.113.7":   "203.0.113.7",
		"2001:db8:1:2:aaaa::1": "2001:db8:1:2::/64",
		"2001:db8:1:2:bbbb::9": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":      "2001:db8:1:3::/64",
		"fe80::1%eth0":         "fe80::/64",
	} {
		if got := Key(netip.MustParseAddr(in)); got != want {
			t.Errorf("Key(%s) = %s, want %s", in, got, want)
		}
	}
	if got := Key(netip.Addr{}); got != "unknown" {
		t.Errorf("invalid: %s", got)
	}
}

func TestParsePrefixes(t *testing.T) {
	t.Parallel()
	got, err := ParsePrefixes(" 10.0.0.0/8, 192.0.2.1 ,fd00::/8,")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.1/32", "fd00::/8"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("%d: %s, want %s", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "nope", "10.0.0.0/8,x/3"} {
		if _, err := ParsePrefixes(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
