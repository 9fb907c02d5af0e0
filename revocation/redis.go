package revocation

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/collabedit/collab/auth"
)

// keyPrefix names revocation keys on one server: collab:revoked:sub:<sub>
// and collab:revoked:jti:<jti>, each expiring at its Until.
const keyPrefix = "collab:revoked:"

// clusterPrefix names them on a cluster: collab:revoked:{revoked}:sub:<sub>
// and so on. The hash tag puts every revocation on one slot, so that the
// MULTI of Put touches one slot and List scans one node. There are few
// (one per revoked user or token, for at most a token's lifetime), so one
// shard holds them easily.
const clusterPrefix = "collab:revoked:{revoked}:"

// Redis keeps revocations as Redis keys that expire with them.
type Redis struct {
	// Client is a *redis.Client or a *redis.ClusterClient.
	Client redis.UniversalClient
}

// prefix returns the key prefix for s.Client.
func (s *Redis) prefix() string {
	if _, ok := s.Client.(*redis.ClusterClient); ok {
		return clusterPrefix
	}
	return keyPrefix
}

// scanner returns the client to SCAN: on a cluster the master of the
// revocations' slot, since a cluster client's SCAN goes to one node.
func (s *Redis) scanner(ctx context.Context) (redis.UniversalClient, error) {
	c, ok := s.Client.(*redis.ClusterClient)
	if !ok {
		return s.Client, nil
	}
	return c.MasterForKey(ctx, clusterPrefix)
}

// Put stores r until r.Until.
func (s *Redis) Put(ctx context.Context, r auth.Revocation) error {
	ttl := time.Until(r.Until)
	if ttl <= 0 {
		return nil
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("put revocation: %w", err)
	}
	prefix := s.prefix()
	pipe := s.Client.TxPipeline()
	if r.Subject != "" {
		pipe.Set(ctx, prefix+"sub:"+r.Subject, data, ttl)
	}
	if r.TokenID != "" {
		pipe.Set(ctx, prefix+"jti:"+r.TokenID, data, ttl)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("put revocation: %w", err)
	}
	return nil
}

// List returns every revocation stored (a SCAN of the prefix: there are
// few, and it runs at start and after a resubscription).
func (s *Redis) List(ctx context.Context) ([]auth.Revocation, error) {
	var out []auth.Revocation
	c, err := s.scanner(ctx)
	if err != nil {
		return nil, fmt.Errorf("list revocations: %w", err)
	}
	iter := c.Scan(ctx, 0, s.prefix()+"*", 256).Iterator()
	for iter.Next(ctx) {
		data, err := c.Get(ctx, iter.Val()).Bytes()
		if err == redis.Nil {
			continue // expired between SCAN and GET
		}
		if err != nil {
			return nil, fmt.Errorf("list revocations: %w", err)
		}
		var r auth.Revocation
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("list revocations: %s: %w", iter.Val(), err)
		}
		out = append(out, r)
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("list revocations: %w", err)
	}
	return out, nil
}
