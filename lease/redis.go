package lease

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// keyPrefix namespaces lease keys next to the other collab:* keys.
const keyPrefix = "collab:lease:"

// key names doc's lease: "collab:lease:" + doc on one server, as before
// clusters were supported, so that processes of the old and new versions
// see the same leases during a rolling upgrade; on a cluster
// "collab:lease:{" + doc + "}", whose hash tag puts it on the shard of
// the document's channel (collab:doc:{doc}) and presence keys
// (collab:presence:{doc}), so one shard failing affects a document whole
// or not at all.
func (r *Redis) key(doc string) string {
	if r.cluster {
		return keyPrefix + "{" + doc + "}"
	}
	return keyPrefix + doc
}

// acquireScript takes KEYS[1] for ARGV[1] for ARGV[2] ms if it is free,
// extends it if ARGV[1] holds it, and returns the holder. One script so
// that read and write are a single atomic step: two processes can never
// both see the key free.
var acquireScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then
	redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
	return ARGV[1]
end
if cur == ARGV[1] then
	redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return cur
`)

// releaseScript deletes KEYS[1] only if ARGV[1] holds it, so an owner
// whose lease expired and was taken over cannot release its successor's.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0
`)

// Redis is a hub.Leases stored in Redis under "collab:lease:" + doc, for
// several processes sharing one Redis server or one Redis Cluster (where
// the doc is a hash tag: "collab:lease:{" + doc + "}"). Each script
// touches that one key, so it runs on one shard.
type Redis struct {
	client  redis.UniversalClient
	cluster bool
	ttl     time.Duration
}

// NewRedis returns leases lasting ttl unless renewed, stored through
// client (which stays the caller's): a *redis.Client or a
// *redis.ClusterClient. Build the client with redisopt so calls fail
// within ~2 s while Redis is down: longer would let a lease expire while
// its owner still waits to renew it. It panics if ttl is under 1 ms, the
// resolution of PX.
func NewRedis(client redis.UniversalClient, ttl time.Duration) *Redis {
	if ttl < time.Millisecond {
		panic(fmt.Sprintf("lease: NewRedis with ttl %v", ttl))
	}
	_, cluster := client.(*redis.ClusterClient)
	return &Redis{client: client, cluster: cluster, ttl: ttl}
}

// Acquire takes doc's lease for owner if it is free, or extends it by TTL
// if owner already holds it, and returns who holds it now.
func (r *Redis) Acquire(ctx context.Context, doc, owner string) (holder string, err error) {
	if err := check(ctx, owner); err != nil {
		return "", fmt.Errorf("lease: acquire %q: %w", doc, err)
	}
	// Run tries EVALSHA and falls back to EVAL once after a restarted
	// Redis has forgotten the script.
	holder, err = acquireScript.Run(ctx, r.client, []string{r.key(doc)}, owner, r.ttl.Milliseconds()).Text()
	if err != nil {
		return "", fmt.Errorf("lease: acquire %q: %w", doc, err)
	}
	return holder, nil
}

// Release gives doc's lease up if owner holds it, and does nothing
// otherwise.
func (r *Redis) Release(ctx context.Context, doc, owner string) error {
	if err := check(ctx, owner); err != nil {
		return fmt.Errorf("lease: release %q: %w", doc, err)
	}
	if err := releaseScript.Run(ctx, r.client, []string{r.key(doc)}, owner).Err(); err != nil {
		return fmt.Errorf("lease: release %q: %w", doc, err)
	}
	return nil
}

// TTL is how long a lease lasts without renewal.
func (r *Redis) TTL() time.Duration { return r.ttl }
