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

// revoker applies revocations (protocol §18) in this process and passes
// them on: it records them in node.revoked, which every authentication
// checks, and closes the sockets acting with a revoked token. Its
// methods run on the caller's goroutine (Revoke) or the bus's.
type revoker struct {
	n     *node
	conns *connSet
}

// Revoke withdraws the tokens r names: it is stored (Config.Revocations),
// applied here, and published to the other processes; each closes the
// sockets acting with those tokens (close 4403) as soon as the message
// arrives, and refuses them from then until r.Until. It returns how many
// sockets this process closed.
func (h *Hub) Revoke(ctx context.Context, r auth.Revocation) (int, error) {
	return h.revoker.revoke(ctx, r)
}

func (v *revoker) revoke(ctx context.Context, r auth.Revocation) (int, error) {
	if (r.Subject == "" && r.TokenID == "") || !time.Now().Before(r.Until) {
		return 0, ErrBadRevocation
	}
	if s := v.n.cfg.Revocations; s != nil {
		if err := s.Put(ctx, r); err != nil {
			return 0, fmt.Errorf("revoke: store: %w", err)
		}
	}
	closed := v.apply(r)
	if !v.n.solo {
		msg, _ := json.Marshal(r)
		if err := v.n.bus.Publish(ctx, revokeChannel, msg); err != nil {
			return closed, fmt.Errorf("revoke: publish: %w", err)
		}
	}
	return closed, nil
}

// apply records r and closes the local sockets it names.
func (v *revoker) apply(r auth.Revocation) int {
	v.n.revoked.Add(r)
	hit := v.conns.matching(func(c *conn) bool { return r.Hits(c.acc.identity()) })
	for _, c := range hit {
		c.closeWith(protocol.CloseRevoked, "access revoked")
	}
	if len(hit) > 0 {
		v.n.log.Info().Str("sub", r.Subject).Str("jti", r.TokenID).Int("closed", len(hit)).Msg("revoked")
	}
	v.n.metrics.revokedConns.Add(int64(len(hit)))
	return len(hit)
}

// onMsg applies a revocation published by a process; after a
// resubscription (nil), when some may have been missed, it reads the
// store again.
func (v *revoker) onMsg(msg []byte) {
	if msg == nil {
		v.load()
		return
	}
	var r auth.Revocation
	if err := json.Unmarshal(msg, &r); err != nil {
		v.n.log.Warn().Err(err).Msg("bad revocation message")
		return
	}
	v.apply(r)
}

// load reads the store into memory, closing any socket a revocation
// names, and drops the expired ones from memory.
func (v *revoker) load() {
	s := v.n.cfg.Revocations
	if s == nil {
		return
	}
	ctx, cancel := v.n.ioContext(v.n.cfg.ReadTimeout)
	defer cancel()
	list, err := s.List(ctx)
	if err != nil {
		v.n.log.Warn().Err(err).Msg("load revocations")
		return
	}
	for _, r := range list {
		v.apply(r)
	}
	v.n.revoked.Expire(time.Now())
}

// watch subscribes to the other processes' revocations, then loads the
// stored ones: subscribe first, so none falls in between. It returns the
// unsubscribe.
func (v *revoker) watch() func() {
	unsub := func() {}
	if !v.n.solo {
		var err error
		if unsub, err = v.n.bus.Subscribe(revokeChannel, v.onMsg); err != nil {
			v.n.log.Warn().Err(err).Msg("subscribe to revocations")
			unsub = func() {}
		}
	}
	v.load()
	return unsub
}
