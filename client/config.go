package client

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/collabedit/collab/document"
	"github.com/collabedit/collab/protocol"
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
	// Token, when set, returns the token presented to a server that
	// checks access (protocol §18): on every connection, before any
	// document is opened, and again when the server warns that the
	// current one is about to expire, so a long session carries on with
	// a fresh token. It may block (to fetch one) until ctx is done. nil:
	// no auth message (a server in -auth none).
	Token func(ctx context.Context) (string, error)

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
	// OnLifecycle is called when a rename or delete of doc (protocol §19)
	// was applied at version, after the OnRemote of its identity op: the
	// new title of a rename ("" for the text's first line again), or a
	// delete, after which the Doc fails with ErrDeleted. A lifecycle event
	// that reached the client inside a snapshot (after a resync) is not
	// reported: the snapshot does not carry it.
	OnLifecycle func(doc string, version int64, lc protocol.Lifecycle)
	// OnError reports refused ops (the error wraps a *protocol.Error with
	// code invalid_op or too_large; the op has been dropped from the local
	// text) and other protocol errors the client cannot fix by itself.
	OnError func(doc string, err error)

	// OnConnect is called each time a connection to url is established:
	// by Dial for the first one, and by every reconnect or move to the
	// owner (protocol §15). Soak tests pair it with OnDisconnect to prove
	// that every drop had a cause outside the client.
	OnConnect func(url string)
	// OnDisconnect is called when the connection to url has ended, once
	// per OnConnect, with why: an error wrapping ErrMoved when the client
	// left to follow a "moved" answer, ErrClosed when Close ended it, else
	// what ended the socket (a *websocket.CloseError carrying the server's
	// close code, or a network error). Both run on the goroutine that owns
	// the connection (Dial's caller for the first, then the supervisor)
	// and must not block or call Close.
	OnDisconnect func(url string, err error)
	// OnOrderViolation is called when the server broke its ordering
	// guarantees for doc (protocol §6): an op, ack or "opened" at another
	// version than the client's, or a snapshot older than what the client
	// already has. The client recovers by itself (it ignores a duplicate
	// and resynchronises after a gap), so without this hook such a server
	// defect is invisible from outside. Duplicates the protocol allows,
	// while a document is re-served on the connection that reopened it,
	// are not reported.
	OnOrderViolation func(doc string, v OrderViolation)
}

// OrderViolation is a frame that broke the ordering guarantees of protocol
// §6, as reported to Config.OnOrderViolation.
type OrderViolation struct {
	Kind string // the frame's type: "op", "ack", "opened" or "snapshot"
	ID   string // the op id, for "op" and "ack"
	Got  int64  // the version the frame carried
	Want int64  // the client's version: what an op, ack or opened must carry, and the least a snapshot may
}

func (v OrderViolation) String() string {
	if v.ID != "" {
		return fmt.Sprintf("%s %s at version %d, expected %d", v.Kind, v.ID, v.Got, v.Want)
	}
	return fmt.Sprintf("%s at version %d, expected %d", v.Kind, v.Got, v.Want)
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
