// Package redisstore keeps sessions, verification values and rate-limit
// counters in Redis exactly as better-auth 1.7's secondaryStorage does with
// @better-auth/redis-storage (same keys, JSON values and TTLs), so that authd
// and better-auth servers on one Redis and one database accept each other's
// sessions. With sessions also in the database (Layered), a Redis outage
// degrades to the database instead of failing requests (see Health).
package redisstore

import (
	"fmt"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"
)

// Prefix starts every key, as redisStorage's default keyPrefix.
const Prefix = "better-auth:"

// Config locates Redis.
type Config struct {
	// URL is redis://[user:password@]host:port/db (rediss:// for TLS). More
	// addresses for a Redis Cluster or Sentinel come as repeated addr=host:port
	// query parameters; master_name=<name> selects Sentinel.
	URL string
	// Timeout bounds every call, default 500 ms: a request must not wait on
	// a stuck Redis longer than it would on the database fallback.
	Timeout time.Duration
	// TwoFactor says better-auth's twoFactor plugin is on: cached users
	// then carry twoFactorEnabled, as better-auth's do.
	TwoFactor bool
}

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = 500 * time.Millisecond
	}
	return c
}

// NewClient returns go-redis's universal client for cfg: one address is a
// single Redis, several a Cluster, a master name Sentinel. It does not
// connect: authd must start while Redis is down.
func NewClient(cfg Config) (redis.UniversalClient, error) {
	cfg = cfg.withDefaults()
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	q := u.Query()
	extra, master := q["addr"], q.Get("master_name")
	q.Del("addr")
	q.Del("master_name")
	u.RawQuery = q.Encode()
	o, err := redis.ParseURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	return redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:      append([]string{o.Addr}, extra...),
		MasterName: master,
		DB:         o.DB,
		Username:   o.Username,
		Password:   o.Password,
		TLSConfig:  o.TLSConfig,
		// Failing fast is the point: a slow Redis is answered from the
		// database. One retry covers a connection Redis closed while idle.
		DialTimeout:           cfg.Timeout,
		ReadTimeout:           cfg.Timeout,
		WriteTimeout:          cfg.Timeout,
		ContextTimeoutEnabled: true,
		MaxRetries:            1,
		PoolTimeout:           cfg.Timeout,
	}), nil
}
