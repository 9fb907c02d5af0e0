package soak

import (
	"errors"
	"sync"
	"time"

	"github.com/collabedit/collab/client"
)

// connectSlack is how much earlier than a kill a connection may be
// reported as established and still be explained by it: the OnConnect
// hook runs just after the handshake, so under load it may be stamped a
// little after a kill that the connection was already exposed to. 200 ms
// is far shorter than the ≥ 500 ms the suite waits between a kill and the
// restart, so a connection to the new process is never excused by the
// old one's death.
const connectSlack = 200 * time.Millisecond

// killLog records when the process behind each URL was killed: the only
// reason a client may lose its connection.
type killLog struct {
	mu sync.Mutex
	at map[string][]time.Time
}

func newKillLog() *killLog { return &killLog{at: make(map[string][]time.Time)} }

// killed records that the process at url is being killed now. Call it
// before sending the signal, so every drop it causes comes after.
func (k *killLog) killed(url string, at time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.at[url] = append(k.at[url], at)
}

// explains reports whether a connection to url, established at connected
// and lost at dropped, was lost because its process was killed meanwhile.
func (k *killLog) explains(url string, connected, dropped time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, t := range k.at[url] {
		if !t.Before(connected.Add(-connectSlack)) && !t.After(dropped) {
			return true
		}
	}
	return false
}

// connWatch follows one client's connections and files a finding for
// every disconnect no kill explains. Hooks of one client run one at a
// time, but a watch may also be read by the report, hence the lock.
type connWatch struct {
	who   string
	doc   string
	kills *killLog
	found *findings

	mu              sync.Mutex
	url             string // current connection; "" while disconnected
	since           time.Time
	connects, drops int
}

func newConnWatch(who, doc string, kills *killLog, found *findings) *connWatch {
	return &connWatch{who: who, doc: doc, kills: kills, found: found}
}

// connected notes a new connection to url.
func (w *connWatch) connected(url string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.url, w.since = url, time.Now()
	w.connects++
}

// connectedSince reports whether the client is connected, on a
// connection made after t.
func (w *connWatch) connectedSince(t time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.url != "" && w.since.After(t)
}

// disconnected checks the end of the connection to url: deliberate ends
// (the client closed it or followed "moved") are fine, others must be
// explained by a kill.
func (w *connWatch) disconnected(url string, err error, deliberate bool) {
	now := time.Now()
	w.mu.Lock()
	since := w.since
	w.url = ""
	w.mu.Unlock()
	if deliberate {
		return
	}
	if w.kills.explains(url, since, now) {
		w.mu.Lock()
		w.drops++
		w.mu.Unlock()
		w.found.note("disconnect explained by a kill")
		return
	}
	w.found.add(checkDisconnect, w.who, w.doc, "connection to %s (up %.1fs) lost with no kill of that process: %v",
		url, now.Sub(since).Seconds(), err)
}

// hook wires the watch into a Go client's config.
func (w *connWatch) hook(cfg *client.Config) {
	cfg.OnConnect = w.connected
	cfg.OnDisconnect = func(url string, err error) {
		w.disconnected(url, err, errors.Is(err, client.ErrMoved) || errors.Is(err, client.ErrClosed))
	}
}
