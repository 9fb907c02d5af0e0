package client

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/collabedit/collab/protocol"
)

// ErrClosed is returned by operations on a closed Client or Doc.
var ErrClosed = errors.New("client closed")

// ErrDeleted stops a Doc whose document an owner deleted (protocol §19):
// edits not yet acknowledged can never be applied, and Open, Edit and
// WaitSynced return it from then on.
var ErrDeleted = errors.New("document deleted")

// ErrMoved is what Config.OnDisconnect reports for a connection the client
// left to follow a "moved" answer to the document's owner (protocol §15).
var ErrMoved = errors.New("left to follow the document's owner")

// Client is one editing session with a server: one connection at a time,
// re-established in the background when it drops, over which any number of
// documents are open. Create it with Dial; it is safe for concurrent use.
type Client struct {
	attempts atomic.Uint64 // connection attempts, to rotate through Fallbacks
	moves    atomic.Int32  // consecutive "moved" answers (route.go)
	cfg      Config
	log      zerolog.Logger
	ctx      context.Context // cancelled by Close
	cancel   context.CancelFunc
	wg       sync.WaitGroup // supervisor and retry timers
	seq      atomic.Uint64  // op sequence numbers

	routeMu   sync.Mutex
	preferred string // endpoint a "moved" named; "" none
	moving    bool   // the current session is ending because of a move

	mu      sync.Mutex
	closing bool
	sess    *session // current live session, nil while disconnected
	docs    map[string]*Doc
}

// Dial connects to cfg.URL. The first connection must succeed, or Dial
// returns its error; afterwards a dropped connection is re-established in
// the background with exponential backoff, and every open document is
// reopened and caught up.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.URL == "" {
		return nil, errors.New("dial: empty url")
	}
	// Op ids are "<ClientID>:<seq>" and the server refuses ids over
	// protocol.MaxOpIDLen bytes: leave 21 bytes for ":" and any int64 seq.
	if n := len(cfg.ClientID); n > protocol.MaxOpIDLen-21 {
		return nil, fmt.Errorf("dial: client id of %d bytes, over the %d its op ids leave it", n, protocol.MaxOpIDLen-21)
	}
	cfg.setDefaults()
	cctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		cfg:    cfg,
		log:    cfg.Logger.With().Str("client", cfg.ClientID).Logger(),
		ctx:    cctx,
		cancel: cancel,
		docs:   make(map[string]*Doc),
	}
	s, err := c.connect(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.supervise(s)
	}()
	return c, nil
}

// ID returns the client id, the prefix of every op id this client sends.
func (c *Client) ID() string { return c.cfg.ClientID }

// Connected reports whether a connection is up right now.
func (c *Client) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess != nil && c.sess.alive()
}

// Drop abruptly closes the current socket, without a close frame, as a
// network cut would. It is a test hook: the client reconnects by itself.
func (c *Client) Drop() {
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s != nil {
		s.drop()
	}
}

// Close stops the client: the connection is closed, pending edits are
// abandoned, and Close returns once every goroutine of the client has
// exited. Call Doc.WaitSynced first to make sure edits reached the server.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return ErrClosed
	}
	c.closing = true
	docs := c.docList()
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	for _, d := range docs {
		d.shutdown()
	}
	return nil
}

// Open subscribes to doc and waits for its initial snapshot. A document
// can be open only once per client at a time.
func (c *Client) Open(ctx context.Context, doc string) (*Doc, error) {
	if perr := protocol.ValidateDocID(doc); perr != nil {
		return nil, fmt.Errorf("open %q: %w", doc, perr)
	}
	d := newDoc(c, doc)
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if _, dup := c.docs[doc]; dup {
		c.mu.Unlock()
		return nil, fmt.Errorf("open %q: already open on this client", doc)
	}
	c.docs[doc] = d
	s := c.sess
	c.mu.Unlock()
	if s != nil {
		d.attach(s)
	}
	select {
	case <-d.ready:
		return d, nil
	case <-d.done:
		return nil, fmt.Errorf("open %q: %w", doc, d.closeErr())
	case <-ctx.Done():
		_ = d.Close()
		return nil, fmt.Errorf("open %q: %w", doc, ctx.Err())
	}
}

// nextID returns a fresh op id "<ClientID>:<seq>".
func (c *Client) nextID() string {
	return c.cfg.ClientID + ":" + strconv.FormatUint(c.seq.Add(1), 10)
}

// forget removes d from the registry (Doc.Close).
func (c *Client) forget(d *Doc) {
	c.mu.Lock()
	if c.docs[d.id] == d {
		delete(c.docs, d.id)
	}
	c.mu.Unlock()
}

// docList returns the open documents; c.mu must be held.
func (c *Client) docList() []*Doc {
	docs := make([]*Doc, 0, len(c.docs))
	for _, d := range c.docs {
		docs = append(docs, d)
	}
	return docs
}

// lookup returns the open document doc, or nil.
func (c *Client) lookup(doc string) *Doc {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.docs[doc]
}
