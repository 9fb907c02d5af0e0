package hub

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// webOrigin is a browser origin as RFC 6454 compares them: scheme, host
// and port, with the scheme's default port filled in, so that
// "https://app.example" and "https://app.example:443" are one origin and
// "http://app.example" is another. Comparing the host alone let a page
// served over plain http, which anyone on the path can alter, open
// sockets that the https page's users were promised.
type webOrigin struct{ scheme, host, port string }

func parseWebOrigin(s string) (webOrigin, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return webOrigin{}, false
	}
	return newWebOrigin(u.Scheme, u.Host), true
}

// newWebOrigin normalises scheme and hostport (a Host header or URL host).
func newWebOrigin(scheme, hostport string) webOrigin {
	scheme = strings.ToLower(scheme)
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.Trim(hostport, "[]"), ""
	}
	if port == "" {
		port = "80"
		if scheme == "https" {
			port = "443"
		}
	}
	return webOrigin{scheme: scheme, host: strings.ToLower(host), port: port}
}

// requestOrigin is the origin a same-origin page of this request would
// have. Behind a TLS-terminating proxy the request arrives over http; the
// proxy's X-Forwarded-Proto then names the scheme the browser used (a
// browser cannot set that header on a WebSocket handshake itself).
func requestOrigin(r *http.Request) webOrigin {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	} else if p := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("X-Forwarded-Proto"), ",")[0])); p == "https" || p == "http" {
		scheme = p
	}
	return newWebOrigin(scheme, r.Host)
}

// originPolicy decides which browser origins may open sockets.
type originPolicy struct {
	any     bool
	allowed map[webOrigin]bool // empty: same origin only
}

func newOriginPolicy(list []string) (originPolicy, []string) {
	p := originPolicy{allowed: make(map[webOrigin]bool)}
	var bad []string
	for _, s := range list {
		if s == "*" {
			p.any = true
			continue
		}
		o, ok := parseWebOrigin(s)
		if !ok {
			bad = append(bad, s)
			continue
		}
		p.allowed[o] = true
	}
	return p, bad
}

// check reports whether r may be upgraded.
func (p originPolicy) check(r *http.Request) bool {
	header := r.Header.Get("Origin")
	if header == "" {
		return true // not a browser: origin checks protect browsers' users
	}
	if p.any {
		return true
	}
	o, ok := parseWebOrigin(header)
	if !ok {
		return false
	}
	if len(p.allowed) == 0 {
		return o == requestOrigin(r)
	}
	return p.allowed[o]
}
