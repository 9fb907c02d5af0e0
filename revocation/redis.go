package revocation

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/collabedit/collab/auth"
)

// keyPrefix names revocation keys: collab:revoked:sub:<sub> and
// collab:revoked:jti:<jti>, each expiring at its Until.
const keyPrefix = "collab:revoked:"

// Redis keeps revocations as Redis keys that expire with them.
type Redis struct {
	Client redis.UniversalClient
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
	pipe := s.Client.TxPipeline()
	if r.Subject != "" {
		pipe.Set(ctx, keyPrefix+"sub:"+r.Subject, data, ttl)
	}
	if r.TokenID != "" {
		pipe.Set(ctx, keyPrefix+"jti:"+r.TokenID, data, ttl)
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
	iter := s.Client.Scan(ctx, 0, keyPrefix+"*", 256).Iterator()
	for iter.Next(ctx) {
		data, err := s.Client.Get(ctx, iter.Val()).Bytes()
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
