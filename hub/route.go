package hub

import (
	"context"
	"time"

	"github.com/collabedit/collab/protocol"
)

// Owner-affine routing (protocol §15). With several processes behind a
// load balancer, a client of a non-owner costs every one of its ops two
// extra bus hops (forward, then the event back) and makes every process
// decode and apply every event. Measured on one hot document, that held 3
// processes to 61 % of one process's throughput; sending clients that
// accept it to the owner removes both costs.
const (
	// advertiseTTL is how long an advertised URL lives unrenewed; it is
	// renewed every third of it, so a dead process stops attracting
	// clients within 30 s, and before that its leases (5 s) have moved,
	// so nobody is routed to it anyway.
	advertiseTTL = 30 * time.Second
)

// advertise publishes AdvertiseURL in the Directory until the hub closes.
func (h *Hub) advertise() {
	t := time.NewTicker(advertiseTTL / 3)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(h.ctx, h.leaseTimeout())
		if err := h.dir.Advertise(ctx, h.id, h.cfg.AdvertiseURL, advertiseTTL); err != nil && h.ctx.Err() == nil {
			h.log.Warn().Err(err).Msg("advertise url; retrying")
		}
		cancel()
		select {
		case <-t.C:
		case <-h.ctx.Done():
			return
		}
	}
}

// routeUnloaded answers a routed open of a document this process has not
// loaded, on the connection's reader goroutine: if another process holds
// the lease and advertised a URL, the client is sent there without this
// process loading the document or subscribing to its events, which would
// cost it a decode and apply of every event. Otherwise (no holder, this
// process, no answer) the open goes to a room as usual; a free lease taken
// here is this process's to sequence.
func (h *Hub) routeUnloaded(c *conn, req protocol.Request) bool {
	if !req.Route || h.dir == nil {
		return false
	}
	h.mu.Lock()
	_, loaded := h.rooms[req.Doc]
	h.mu.Unlock()
	if loaded {
		return false // the room answers (room.route)
	}
	ctx, cancel := context.WithTimeout(h.ctx, h.leaseTimeout())
	defer cancel()
	holder, err := h.leases.Acquire(ctx, req.Doc, h.id)
	if err != nil || holder == h.id {
		return false
	}
	url, err := h.dir.Locate(ctx, holder)
	return err == nil && c.moveTo(req.Doc, holder, url)
}

// moveTo sends the client to holder's url, unless that is unknown or
// this process, and reports whether it did.
func (c *conn) moveTo(doc, holder, url string) bool {
	if url == "" || url == c.h.cfg.AdvertiseURL {
		return false
	}
	c.h.metrics.redirects.Add(1)
	c.log.Debug().Str("doc", doc).Str("owner", holder).Str("url", url).Msg("open routed to the owner")
	c.send(protocol.AppendMoved(nil, doc, url))
	return true
}

// route answers a routed open with "moved" when another process owns the
// document and can be reached, and reports whether it did. The holder is
// the one the room follows, checked every third of the lease's TTL.
func (r *room) route(c *conn, req protocol.Request) bool {
	if _, reopen := r.subs[c]; !req.Route || r.h.dir == nil || r.own.role != following || reopen {
		return false
	}
	return c.moveTo(r.doc, r.own.holder, r.ownerURL())
}

// ownerURL returns the URL the current holder advertised, "" if unknown.
// It is looked up once per holder: a Redis GET on the room's goroutine,
// ≈0.1 ms, only when the lease changed hands.
func (r *room) ownerURL() string {
	holder := r.own.holder
	if holder == "" {
		return ""
	}
	if r.urlOf != holder {
		ctx, cancel := context.WithTimeout(context.Background(), r.h.leaseTimeout())
		url, err := r.h.dir.Locate(ctx, holder)
		cancel()
		if err != nil {
			r.log.Debug().Err(err).Msg("locate owner")
			return ""
		}
		r.urlOf, r.holderURL = holder, url
	}
	return r.holderURL
}
