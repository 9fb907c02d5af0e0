package client

import (
	"crypto/rand"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/collabedit/collab/document"
)

// Config configures a Client. Only URL is required; Dial fills every other
// zero field with the default documented on it.
type Config struct {
	// URL is the server's WebSocket endpoint, e.g. ws://host:port/ws.
	URL string
	// Fallbacks are further endpoints serving the same documents (other
	// server processes). Each reconnect tries the next endpoint in turn,
	// as a load balancer would move a client off a dead process.
	Fallbacks []string
	// FollowOwner lets the server send the client to the process that
	// owns its document (protocol §15), so its ops skip the forwarding hop
	// between processes. It applies while the client has exactly one
	// document open, since one connection carries all of them; with more,
	// each is served where the client is connected.
	FollowOwner bool
	// ClientID names this editing session; op ids are "<ClientID>:<seq>".
	// It is kept across reconnects. Default: 8 random base36 characters.
	ClientID string
	// Header is sent with every handshake (e.g. Origin).
	Header http.Header
	// Dialer opens the sockets. Default: proxy from the environment and a
	// 10s handshake timeout.
	Dialer *websocket.Dialer
	// ReconnectMin is the first retry delay after a dropped connection (and
	// after an op refused with unavailable or rate_limited); it doubles,
	// with jitter, up to ReconnectMax. Defaults 50ms and 5s.
	ReconnectMin time.Duration
	ReconnectMax time.Duration
	// Logger receives the client's logs; the zero value logs nothing.
	Logger zerolog.Logger

	// OnAck is called when the server acknowledges one of this client's
	// ops: version is the version it was applied at, latency the time since
	// it was first sent. Hooks run on the client's reader goroutine, never
	// under a lock, and must not block (in particular they must not call
	// Client.Close or Doc.WaitSynced, which wait for that goroutine).
	OnAck func(doc, id string, version int64, latency time.Duration)
	// OnRemote is called after a change that did not come from this client
	// was applied to the local text. op is the op as applied to the local
	// text (transformed past pending local edits); version is the server
	// version it was sequenced at. After a resync from a snapshot, id is ""
	// and op is the difference the snapshot made to the local text.
	OnRemote func(doc string, version int64, id string, op document.Op)
	// OnError reports refused ops (the error wraps a *protocol.Error with
	// code invalid_op or too_large; the op has been dropped from the local
	// text) and other protocol errors the client cannot fix by itself.
	OnError func(doc string, err error)
}

func (c *Config) setDefaults() {
	if c.ClientID == "" {
		c.ClientID = randomID(8)
	}
	if c.Dialer == nil {
		c.Dialer = &websocket.Dialer{
			Proxy:            http.ProxyFromEnvironment,
			HandshakeTimeout: 10 * time.Second,
		}
	}
	if c.ReconnectMin <= 0 {
		c.ReconnectMin = 50 * time.Millisecond
	}
	if c.ReconnectMax <= 0 {
		c.ReconnectMax = 5 * time.Second
	}
	if c.ReconnectMax < c.ReconnectMin {
		c.ReconnectMax = c.ReconnectMin
	}
}

// randomID returns n random base36 characters.
func randomID(n int) string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	for i := range b {
		b[i] = digits[int(b[i])%len(digits)]
	}
	return string(b)
}
