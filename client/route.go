package client

// Owner routing (protocol §15). With Config.FollowOwner, a client with one
// document open asks the server to route it; a server that does not own
// the document answers "moved" with the owner's URL, and the client
// reconnects there at once. Its ops then go straight to the process that
// sequences them instead of being forwarded over the bus.

// maxMoves bounds consecutive moves without an open being served. Two
// processes can disagree about a lease for a moment while it changes
// hands; after this many moves the client asks without routing and is
// served where it is.
const maxMoves = 3

// routeOpen reports whether an open of d should ask for routing: only when
// d is the client's only document, since one connection carries all of
// them and another document may be owned elsewhere.
func (c *Client) routeOpen() bool {
	if !c.cfg.FollowOwner || c.moves.Load() >= maxMoves {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.docs) == 1
}

// moveTo makes url the endpoint of the next connection and ends s, which
// the supervisor replaces without waiting for a backoff delay.
func (c *Client) moveTo(s *session, url string) {
	c.moves.Add(1)
	c.routeMu.Lock()
	c.preferred, c.moving = url, true
	c.routeMu.Unlock()
	c.log.Debug().Str("url", url).Msg("document owned elsewhere; moving there")
	s.cancel()
}

// served notes that an open was answered on the current connection.
func (c *Client) served() { c.moves.Store(0) }

// endpoint returns the URL for connection attempt n: the owner a "moved"
// named, else URL and Fallbacks in turn.
func (c *Client) endpoint() string {
	c.routeMu.Lock()
	url := c.preferred
	c.routeMu.Unlock()
	if url != "" {
		return url
	}
	url = c.cfg.URL
	if n := len(c.cfg.Fallbacks); n > 0 {
		// Attempt 0 is URL; later attempts rotate through every endpoint.
		if i := int(c.attempts.Add(1)-1) % (n + 1); i > 0 {
			url = c.cfg.Fallbacks[i-1]
		}
	}
	return url
}

// unreachable forgets url as the preferred endpoint after a failed dial, so
// the next attempt goes back to the configured ones.
func (c *Client) unreachable(url string) {
	c.routeMu.Lock()
	if c.preferred == url {
		c.preferred = ""
	}
	c.routeMu.Unlock()
}

// takeMove reports whether the last session ended because of a move, and
// clears that.
func (c *Client) takeMove() bool {
	c.routeMu.Lock()
	defer c.routeMu.Unlock()
	m := c.moving
	c.moving = false
	return m
}
