package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authd/authd/core"
)

// Verifications keeps verification values only in Redis, as better-auth
// does with secondaryStorage (verification.storeInDatabase unset): one value
// per identifier, expired by its TTL, consumed with GETDEL. A flow started
// on one server finishes on any other sharing the Redis. Redis being down
// is core.ErrUnavailable: there is no other copy.
type Verifications struct{ c *cache }

var _ core.VerificationRepository = (*Verifications)(nil)

func NewVerifications(rdb redis.UniversalClient, cfg Config, clock core.Clock) *Verifications {
	return &Verifications{newCache(rdb, cfg, clock)}
}

func unavailable(err error) error { return core.ErrUnavailable.With(err) }

// Create overwrites any value of the identifier; one already expired is not
// written, as better-auth's ttl > 0 check.
func (v *Verifications) Create(ctx context.Context, ver core.Verification) error {
	r := ver.Record()
	ttl := ttlSeconds(r.ExpiresAt, v.c.clock.Now())
	if ttl <= 0 {
		return nil
	}
	b, _ := json.Marshal(verificationJSON{CreatedAt: jsTime(r.CreatedAt), UpdatedAt: jsTime(r.UpdatedAt), Value: r.Value,
		Identifier: r.Identifier, ExpiresAt: jsTime(r.ExpiresAt)})
	ctx, cancel := v.c.call(ctx)
	defer cancel()
	if err := v.c.rdb.Set(ctx, verificationKey(r.Identifier), b, time.Duration(ttl)*time.Second).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

func (v *Verifications) Latest(ctx context.Context, identifier string) (core.Verification, error) {
	ctx, cancel := v.c.call(ctx)
	defer cancel()
	return decodeVerification(v.c.rdb.Get(ctx, verificationKey(identifier)).Result())
}

func (v *Verifications) Consume(ctx context.Context, identifier string) (core.Verification, error) {
	ctx, cancel := v.c.call(ctx)
	defer cancel()
	return decodeVerification(v.c.rdb.GetDel(ctx, verificationKey(identifier)).Result())
}

// DeleteExpired has nothing to do: Redis drops expired values itself.
func (v *Verifications) DeleteExpired(context.Context, time.Time, int) (int, error) { return 0, nil }

func decodeVerification(raw string, err error) (core.Verification, error) {
	if errors.Is(err, redis.Nil) {
		return core.Verification{}, core.ErrVerificationNotFound
	}
	if err != nil {
		return core.Verification{}, unavailable(err)
	}
	var j verificationJSON
	if json.Unmarshal([]byte(raw), &j) != nil {
		return core.Verification{}, core.ErrVerificationNotFound
	}
	// better-auth stores no id; the identifier is unique in Redis.
	return core.RehydrateVerification(core.VerificationRecord{ID: j.Identifier, Identifier: j.Identifier, Value: j.Value,
		ExpiresAt: j.ExpiresAt.time(), CreatedAt: j.CreatedAt.time(), UpdatedAt: j.UpdatedAt.time()}), nil
}
