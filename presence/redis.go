package presence

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/collabedit/collab/protocol"
	"github.com/redis/go-redis/v9"
)

// Redis is a Presence store shared by several server processes through one
// Redis server or one Redis Cluster (7.0 or later). Each document uses two
// keys, described in the package documentation: a hash of JSON peers and a
// sorted set of their expiry times, on one slot of a cluster. Expiry is measured on the Redis server's clock, so
// processes on hosts with skewed clocks still agree on it.
//
// Redis is safe for concurrent use.
type Redis struct {
	client redis.UniversalClient
}

// NewRedis returns a presence store that uses client, a *redis.Client or
// a *redis.ClusterClient. The caller keeps ownership of client and closes
// it.
func NewRedis(client redis.UniversalClient) *Redis {
	return &Redis{client: client}
}

// peersKey and expiryKey name doc's two keys. The braces are a Redis
// Cluster hash tag: both keys hash to the same slot whatever doc is (the
// tag runs from the first '{' to the next '}', which is the same in both),
// so each script and the MULTI of Remove touch one slot; it is the slot
// of the document's lease and channel too. A document id holds no braces
// (protocol.ValidateDocID), so the tag is the whole id.
func peersKey(doc string) string  { return "collab:presence:{" + doc + "}" }
func expiryKey(doc string) string { return "collab:presence-exp:{" + doc + "}" }

// nowMillis is the Lua preamble computing the server's time in unix ms.
// Redis freezes TIME for the duration of a script.
const nowMillis = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

// putScript stores ARGV[2] (JSON) as session ARGV[1], expiring ARGV[3] ms
// from now, and sets both keys to expire with their latest peer, so a
// short-lived peer never shortens the life of a long-lived one.
var putScript = redis.NewScript(nowMillis + `
local exp = now + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], exp, ARGV[1])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
local keyexp = tonumber(last[2])
redis.call('PEXPIREAT', KEYS[1], keyexp)
redis.call('PEXPIREAT', KEYS[2], keyexp)
return 1
`)

// listScript drops the expired sessions (expiry <= now) from both keys
// and returns the remaining hash as HGETALL does. HDEL is batched to stay
// within Lua's unpack limit.
var listScript = redis.NewScript(nowMillis + `
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
if #expired > 0 then
	for i = 1, #expired, 1000 do
		redis.call('HDEL', KEYS[1], unpack(expired, i, math.min(i + 999, #expired)))
	end
	redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
end
return redis.call('HGETALL', KEYS[1])
`)

// Put creates or replaces p's entry in doc, valid for ttl (rounded up to a
// whole millisecond) from the Redis server's current time. It is one
// atomic script call.
func (r *Redis) Put(ctx context.Context, doc string, p protocol.Peer, ttl time.Duration) error {
	if p.Session == "" {
		return fmt.Errorf("presence: put in %q: %w", doc, errEmptySession)
	}
	if ttl <= 0 {
		return fmt.Errorf("presence: put %q in %q: ttl %v is not positive", p.Session, doc, ttl)
	}
	data, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("presence: put %q in %q: %w", p.Session, doc, err)
	}
	ms := int64((ttl + time.Millisecond - 1) / time.Millisecond)
	keys := []string{peersKey(doc), expiryKey(doc)}
	if err := putScript.Run(ctx, r.client, keys, p.Session, data, ms).Err(); err != nil {
		return fmt.Errorf("presence: put %q in %q: %w", p.Session, doc, err)
	}
	return nil
}

// Remove deletes session's entry in doc, atomically from both keys.
// Removing an absent entry is not an error.
func (r *Redis) Remove(ctx context.Context, doc, session string) error {
	_, err := r.client.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.HDel(ctx, peersKey(doc), session)
		pipe.ZRem(ctx, expiryKey(doc), session)
		return nil
	})
	if err != nil {
		return fmt.Errorf("presence: remove %q from %q: %w", session, doc, err)
	}
	return nil
}

// List returns the unexpired peers of doc, sorted by Session, deleting
// the expired ones as it goes (one atomic script call). An unknown
// document has no peers.
func (r *Redis) List(ctx context.Context, doc string) ([]protocol.Peer, error) {
	keys := []string{peersKey(doc), expiryKey(doc)}
	flat, err := listScript.Run(ctx, r.client, keys).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("presence: list %q: %w", doc, err)
	}
	out := make([]protocol.Peer, 0, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		var p protocol.Peer
		if err := json.Unmarshal([]byte(flat[i+1]), &p); err != nil {
			return nil, fmt.Errorf("presence: list %q: decode session %q: %w", doc, flat[i], err)
		}
		out = append(out, p)
	}
	sortPeers(out)
	return out, nil
}
