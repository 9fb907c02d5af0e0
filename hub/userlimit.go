package hub

import (
	"context"
	"fmt"

	"github.com/collabedit/collab/auth"
	"github.com/collabedit/collab/protocol"
	"github.com/collabedit/collab/ratelimit"
)

// UserLimiter is a token bucket per key (a user, or an anonymous client
// address) that may be shared by several processes. ratelimit.Memory and
// ratelimit.Redis implement it; see the ratelimit package for how the
// Redis one keeps the per-message cost in memory.
type UserLimiter interface {
	// Allow takes n tokens from key's bucket and reports whether it held
	// them. An error means the limiter could not decide; the hub then
	// allows (fails open), logs and counts it (Stats.LimiterFailures).
	Allow(ctx context.Context, key string, n int) (bool, error)
}

// userLimits are the per-user limiters: messages, inserted bytes and
// documents created.
type userLimits struct {
	msgs, bytes, docs UserLimiter
}

func newUserLimits(cfg *Config) userLimits {
	perSecond := float64(cfg.MaxDocsCreatedPerHour) / cfg.DocsCreatedWindow.Seconds()
	return userLimits{
		msgs:  cfg.UserLimiters("msg", ratelimit.Limit{Rate: cfg.UserRate, Burst: cfg.UserRateBurst}),
		bytes: cfg.UserLimiters("bytes", ratelimit.Limit{Rate: cfg.UserInsertRate, Burst: cfg.UserInsertBurst}),
		docs:  cfg.UserLimiters("docs", ratelimit.Limit{Rate: perSecond, Burst: cfg.MaxDocsCreatedPerHour}),
	}
}

// allowUser asks l for n tokens of key. A limiter that fails allows:
// per-user limits guard against abuse, and a Redis outage must not stop
// everyone editing; per-connection limits and the per-address socket cap
// still bound each client meanwhile.
func (n *node) allowUser(l UserLimiter, key string, tokens int) bool {
	if key == exemptKey {
		return true
	}
	ok, err := l.Allow(n.ctx, key, tokens)
	if err != nil {
		n.metrics.limiterFailures.Add(1)
		n.notice.Warn().Err(err).Msg("per-user rate limiter unavailable; allowing (per-connection limits still apply)")
		return true
	}
	return ok
}

// limitKey is what per-user limits count a connection as: its user, or
// for anonymous connections its client address (clientaddr.Key).
func limitKey(id *auth.Identity, addr string) string {
	switch {
	case id != nil && id.Subject != "":
		return "u:" + id.Subject
	case addr == exemptKey:
		return exemptKey
	}
	return "a:" + addr
}

// exemptKey is the address key of a client the per-address limits do
// not apply to (Config.LimitLoopback), and its per-user key when it is
// anonymous.
const exemptKey = "-"

// originKey is the per-user key of an op's origin; a forward from a
// process that did not send one is counted by its author or process.
func originKey(o origin) string {
	switch {
	case o.limitKey != "":
		return o.limitKey
	case o.author != "":
		return "u:" + o.author
	}
	return "p:" + o.proc
}

// allowCreate counts doc created by o's op (id), or refuses it.
func (n *node) allowCreate(o origin, doc, id string) *protocol.Error {
	if n.allowUser(n.users.docs, originKey(o), 1) {
		return nil
	}
	n.metrics.docsCreatedLimited.Add(1)
	n.metrics.rateLimited.Add(1)
	return refuse(protocol.CodeRateLimited, doc, id, formatDocsLimit(&n.cfg))
}

// formatDocsLimit is the refusal of an op that would create a document.
func formatDocsLimit(c *Config) string {
	return fmt.Sprintf("over %d documents created per %v by this user; nothing was applied, retry later", c.MaxDocsCreatedPerHour, c.DocsCreatedWindow)
}
