package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/collabedit/collab/auth"
	"github.com/collabedit/collab/protocol"
)

// revokeChannel carries revocations to every process.
const revokeChannel = "collab:revoke"

// RevocationStore keeps revocations beyond one process's memory, so that a
// process that starts later, or restarts, refuses the tokens they name.
// Entries expire with the tokens they revoke. revocation.File (one
// process) and revocation.Redis implement it.
type RevocationStore interface {
	Put(ctx context.Context, r auth.Revocation) error
	List(ctx context.Context) ([]auth.Revocation, error)
}

// ErrBadRevocation is returned by Revoke for a revocation that names
// nobody or has already run out.
var ErrBadRevocation = errors.New("revocation names no sub or jti, or its until has passed")

// Revoke withdraws the tokens r names: it is stored (Config.Revocations),
// applied here, and published to the other processes; each closes the
// sockets acting with those tokens (close 4403) as soon as the message
// arrives, and refuses them from then until r.Until. It returns how many
// sockets this process closed.
func (h *Hub) Revoke(ctx context.Context, r auth.Revocation) (int, error) {
	if (r.Subject == "" && r.TokenID == "") || !time.Now().Before(r.Until) {
		return 0, ErrBadRevocation
	}
	if s := h.cfg.Revocations; s != nil {
		if err := s.Put(ctx, r); err != nil {
			return 0, fmt.Errorf("revoke: store: %w", err)
		}
	}
	n := h.applyRevocation(r)
	if !h.solo {
		msg, _ := json.Marshal(r)
		if err := h.bus.Publish(ctx, revokeChannel, msg); err != nil {
			return n, fmt.Errorf("revoke: publish: %w", err)
		}
	}
	return n, nil
}

// Revoked reports whether id's token is revoked now (HTTP handlers check
// bearer tokens with it).
func (h *Hub) Revoked(id *auth.Identity) bool { return h.revoked.Revoked(id, time.Now()) }

// applyRevocation records r and closes the local sockets it names.
func (h *Hub) applyRevocation(r auth.Revocation) int {
	h.revoked.Add(r)
	h.mu.Lock()
	var hit []*conn
	for c := range h.conns {
		if r.Hits(c.identity()) {
			hit = append(hit, c)
		}
	}
	h.mu.Unlock()
	for _, c := range hit {
		c.closeWith(protocol.CloseRevoked, "access revoked")
	}
	if len(hit) > 0 {
		h.log.Info().Str("sub", r.Subject).Str("jti", r.TokenID).Int("closed", len(hit)).Msg("revoked")
	}
	h.metrics.revokedConns.Add(int64(len(hit)))
	return len(hit)
}

// onRevokeMsg applies a revocation published by a process; after a
// resubscription (nil), when some may have been missed, it reads the
// store again.
func (h *Hub) onRevokeMsg(msg []byte) {
	if msg == nil {
		h.loadRevocations()
		return
	}
	var r auth.Revocation
	if err := json.Unmarshal(msg, &r); err != nil {
		h.log.Warn().Err(err).Msg("bad revocation message")
		return
	}
	h.applyRevocation(r)
}

// loadRevocations reads the store into memory, closing any socket a
// revocation names, and drops the expired ones from memory.
func (h *Hub) loadRevocations() {
	s := h.cfg.Revocations
	if s == nil {
		return
	}
	ctx, cancel := h.ioContext(h.cfg.ReadTimeout)
	defer cancel()
	list, err := s.List(ctx)
	if err != nil {
		h.log.Warn().Err(err).Msg("load revocations")
		return
	}
	for _, r := range list {
		h.applyRevocation(r)
	}
	h.revoked.Expire(time.Now())
}

// watchRevocations subscribes to the other processes' revocations, then
// loads the stored ones: subscribe first, so none falls in between.
func (h *Hub) watchRevocations() func() {
	unsub := func() {}
	if !h.solo {
		var err error
		if unsub, err = h.bus.Subscribe(revokeChannel, h.onRevokeMsg); err != nil {
			h.log.Warn().Err(err).Msg("subscribe to revocations")
			unsub = func() {}
		}
	}
	h.loadRevocations()
	return unsub
}
