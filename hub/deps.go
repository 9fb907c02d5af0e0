package hub

import (
	"context"
	"time"

	"github.com/collabedit/collab/auth"
	"github.com/collabedit/collab/eventlog"
	"github.com/collabedit/collab/fanout"
	"github.com/collabedit/collab/lease"
	"github.com/collabedit/collab/presence"
	"github.com/collabedit/collab/protocol"
)

// Store is what the hub needs from the event log. every eventlog.Log
// (SQLite, PostgreSQL) implements it.
type Store interface {
	AppendAsync(e eventlog.Event, done func(eventlog.Event, error))
	PutSnapshotAsync(s eventlog.Snapshot)
	LatestSnapshot(ctx context.Context, doc string) (eventlog.Snapshot, bool, error)
	Events(ctx context.Context, doc string, from int64, limit int) ([]eventlog.Event, error)
	FindOp(ctx context.Context, doc, opID string) (int64, bool, error)
	// Head and Append serve a purge (Hub.Purge), which needs no owner.
	Head(ctx context.Context, doc string) (int64, error)
	Append(ctx context.Context, e eventlog.Event) (eventlog.Event, error)
}

// Bus carries messages between server processes: committed events of a
// document to every process serving it, and commands forwarded to the
// process that owns a document. Delivery is at most once and may reorder
// across channels (Redis pub/sub), so nothing depends on it for
// correctness: every event carries its version and a room that sees a gap,
// or hears nothing for a while, reads the shared log.
//
// fanout.Memory (one process) and fanout.Redis implement it.
type Bus interface {
	// Publish sends msg to every current subscriber of channel.
	Publish(ctx context.Context, channel string, msg []byte) error
	// Subscribe calls fn with each message on channel, from one goroutine
	// per subscription, in the order received. fn(nil) means the
	// subscription was (re)established and earlier messages may have been
	// lost: the subscriber should check its position against the log.
	// fn must not block for long. Cancel stops the calls and waits for a
	// running one to return.
	Subscribe(channel string, fn func(msg []byte)) (cancel func(), err error)
}

// shardedBus is implemented by a bus that shards channels by their Redis
// Cluster hash tag (fanout.Redis): when Sharded reports true the hub puts
// the document or process id of each channel name in a tag (see
// channels).
type shardedBus interface {
	Sharded() bool
}

var _ shardedBus = (*fanout.Redis)(nil)

// Authenticator decides who a connection acts as and what it may do with
// each document. auth.Tokens (local JWT verification) and auth.Webhook
// implement it. Authenticate runs once per connection and per refresh,
// Authorize once per open, never per op, so neither is on the op path.
type Authenticator interface {
	// Authenticate checks token, presented by a client at remote.
	Authenticate(ctx context.Context, token, remote string) (*auth.Identity, error)
	// Authorize returns id's role for doc; token and remote are those id
	// was authenticated with.
	Authorize(ctx context.Context, id *auth.Identity, token, doc, remote string) (auth.Role, error)
}

// Leases decides which process sequences each document. A lease expires
// unless renewed, so a dead owner is replaced within one TTL.
//
// lease.Memory (one process) and lease.Redis implement it.
type Leases interface {
	// Acquire takes doc's lease for owner if it is free, or extends it if
	// owner already holds it, and returns who holds it now.
	Acquire(ctx context.Context, doc, owner string) (holder string, err error)
	// Release gives doc's lease up if owner holds it.
	Release(ctx context.Context, doc, owner string) error
	// TTL is how long a lease lasts without renewal.
	TTL() time.Duration
}

// Presence stores who is in each document. Entries expire unless
// refreshed, so the peers of a process that died disappear by themselves.
//
// presence.Memory (one process) and presence.Redis implement it.
type Presence interface {
	// Put creates or replaces a peer's entry, valid for ttl.
	Put(ctx context.Context, doc string, p protocol.Peer, ttl time.Duration) error
	// Remove deletes a peer's entry.
	Remove(ctx context.Context, doc, session string) error
	// List returns the unexpired peers of doc.
	List(ctx context.Context, doc string) ([]protocol.Peer, error)
}

// Directory maps process ids to the URLs their clients connect to, so a
// process can send a client to a document's owner. Entries expire unless
// re-advertised, so a dead process is not advertised for long.
//
// lease.Memory (one process) and lease.Redis implement it.
type Directory interface {
	// Advertise records that process serves clients at url, for ttl.
	Advertise(ctx context.Context, process, url string, ttl time.Duration) error
	// Locate returns the url process advertised, or "" if none is current.
	Locate(ctx context.Context, process string) (string, error)
}

// The adapters this package is used with, checked at compile time.
var (
	_ Bus           = (*fanout.Memory)(nil)
	_ Bus           = (*fanout.Redis)(nil)
	_ Leases        = (*lease.Memory)(nil)
	_ Leases        = (*lease.Redis)(nil)
	_ Directory     = (*lease.Memory)(nil)
	_ Directory     = (*lease.Redis)(nil)
	_ Presence      = (*presence.Memory)(nil)
	_ Presence      = (*presence.Redis)(nil)
	_ Store         = eventlog.Log(nil)
	_ Authenticator = (*auth.Tokens)(nil)
	_ Authenticator = (*auth.Webhook)(nil)
)
