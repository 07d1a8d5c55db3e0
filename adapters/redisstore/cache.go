package redisstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authd/authd/core"
)

// revokedBeforeTTL is better-auth's max(session.expiresIn, 1 day) for the
// default expiresIn of 7 days.
const revokedBeforeTTL = 7 * 24 * time.Hour

// readScript is get-session's one round trip: the value of the token and the
// revocation marker of the user it names. Lua sees the value as text; a
// user-controlled string cannot fake the field, whose quotes it would
// escape, and the session object comes before the user's.
var readScript = redis.NewScript(`
local v = redis.call("GET", KEYS[1])
if not v then return false end
local uid = string.match(v, '"userId":"([^"]*)"')
local m = ""
if uid then m = redis.call("GET", ARGV[1] .. uid) or "" end
return {v, m}
`)

// cache performs better-auth's secondary-storage operations on sessions
// (internal-adapter.mjs of better-auth 1.7.25).
type cache struct {
	rdb     redis.UniversalClient
	timeout time.Duration
	clock   core.Clock
	// cluster: keys of one request may live on different nodes, so the
	// read script (which reads a key it does not declare) cannot run.
	cluster   bool
	reads     *lookups
	twoFactor bool
}

func newCache(rdb redis.UniversalClient, cfg Config, clock core.Clock) *cache {
	_, cluster := rdb.(*redis.ClusterClient)
	timeout := cfg.withDefaults().Timeout
	return &cache{rdb: rdb, timeout: timeout, clock: clock, cluster: cluster, reads: newLookups(rdb, timeout), twoFactor: cfg.TwoFactor}
}

func sessionKey(token string) string           { return Prefix + token }
func listKey(userID string) string             { return Prefix + "active-sessions-" + userID }
func revokedKey(userID string) string          { return Prefix + "revoked-sessions-before-" + userID }
func verificationKey(identifier string) string { return Prefix + "verification:" + identifier }

func (c *cache) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}

var errCorrupt = errors.New("redisstore: value is not better-auth's JSON")

// read returns the cached session of token. found is false when Redis has
// none; revoked is true when it has one made before the user's revocation
// marker, which better-auth treats as no session, without the database.
func (c *cache) read(ctx context.Context, token string) (s core.Session, u core.User, found, revoked bool, err error) {
	var val, marker string
	if c.cluster {
		val, marker, err = c.readCluster(ctx, token)
	} else {
		val, marker, err = c.reads.get(ctx, token)
	}
	if errors.Is(err, redis.Nil) {
		return s, u, false, false, nil
	}
	if err != nil {
		return s, u, false, false, err
	}
	var e readEnvelope
	if err := json.Unmarshal([]byte(val), &e); err != nil {
		// better-auth's safeJSONParse gives null: no session.
		return s, u, true, true, nil
	}
	if m, err := strconv.ParseFloat(marker, 64); err == nil && float64(e.Session.CreatedAt.time().UnixMilli()) < m {
		return s, u, true, true, nil
	}
	return e.Session.core(), e.User.core(), true, false, nil
}

// readCluster reads the value, then the marker it names: two round trips,
// as the keys may live on different nodes.
func (c *cache) readCluster(ctx context.Context, token string) (val, marker string, err error) {
	ctx, cancel := c.call(ctx)
	defer cancel()
	val, err = c.rdb.Get(ctx, sessionKey(token)).Result()
	if err != nil {
		return "", "", err
	}
	var e envelope
	if json.Unmarshal([]byte(val), &e) == nil {
		marker, err = c.rdb.Get(ctx, revokedKey(e.Session.UserID)).Result()
		if errors.Is(err, redis.Nil) {
			err = nil
		}
	}
	return val, marker, err
}

func (c *cache) list(ctx context.Context, userID string) ([]listEntry, error) {
	raw, err := c.rdb.Get(ctx, listKey(userID)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var l []listEntry
	_ = json.Unmarshal([]byte(raw), &l) // safeJSONParse: garbage is an empty list
	return l, nil
}

// setList is setActiveSessionReferences: sorted by expiry, TTL to the last
// one, deleted when that is not in the future.
func setList(ctx context.Context, p redis.Cmdable, userID string, l []listEntry, now time.Time) {
	slices.SortStableFunc(l, func(a, b listEntry) int { return cmp.Compare(a.ExpiresAt, b.ExpiresAt) })
	var ttl int64
	if len(l) > 0 {
		ttl = ttlSeconds(time.UnixMilli(l[len(l)-1].ExpiresAt), now)
	}
	if ttl <= 0 {
		p.Del(ctx, listKey(userID))
		return
	}
	b, _ := json.Marshal(l)
	p.Set(ctx, listKey(userID), b, time.Duration(ttl)*time.Second)
}

func live(l []listEntry, now time.Time, drop func(token string) bool) []listEntry {
	out := make([]listEntry, 0, len(l)+1)
	for _, e := range l {
		if e.ExpiresAt > now.UnixMilli() && !drop(e.Token) {
			out = append(out, e)
		}
	}
	return out
}

// errTaken is mirror's answer, with onlyNew, when the token has a value.
var errTaken = errors.New("redisstore: the token has a session")

// mirror is createSession's write: the user's list gains the session, and
// <token> holds the session with its user until it expires; with onlyNew,
// only if the token has none (errTaken).
func (c *cache) mirror(ctx context.Context, s core.Session, u core.User, onlyNew bool) error {
	ctx, cancel := c.call(ctx)
	defer cancel()
	now := c.clock.Now()
	l, err := c.list(ctx, s.UserID())
	if err != nil {
		return err
	}
	l = append(live(l, now, func(t string) bool { return t == s.Token() }),
		listEntry{Token: s.Token(), ExpiresAt: s.ExpiresAt().UnixMilli()})
	val, _ := json.Marshal(envelope{Session: toSessionJSON(s), User: marshalUser(u, c.twoFactor)})
	ttl := ttlSeconds(s.ExpiresAt(), now)
	if onlyNew && ttl > 0 {
		ok, err := c.rdb.SetNX(ctx, sessionKey(s.Token()), val, time.Duration(ttl)*time.Second).Result()
		if err != nil {
			return err
		}
		if !ok {
			return errTaken
		}
		setList(ctx, c.rdb, s.UserID(), l, now)
		return nil
	}
	_, err = c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		setList(ctx, p, s.UserID(), l, now)
		if ttl > 0 {
			p.Set(ctx, sessionKey(s.Token()), val, time.Duration(ttl)*time.Second)
		}
		return nil
	})
	return err
}

// errNoCopy is refresh's answer when Redis holds no value for the session.
var errNoCopy = errors.New("redisstore: no cached session")

// refresh is updateSession's write after a refresh: the cached value, if
// any, takes the new expiry (only while it still exists, so that a refresh
// racing a sign-out cannot bring the value back), and so does its entry.
// errNoCopy when there is no value.
func (c *cache) refresh(ctx context.Context, s core.Session) error {
	ctx, cancel := c.call(ctx)
	defer cancel()
	now := c.clock.Now()
	raw, err := c.rdb.Get(ctx, sessionKey(s.Token())).Result()
	if errors.Is(err, redis.Nil) {
		return errNoCopy
	}
	if err != nil {
		return err
	}
	var e envelope
	if json.Unmarshal([]byte(raw), &e) != nil {
		return nil
	}
	e.Session.ExpiresAt, e.Session.UpdatedAt = jsTime(s.ExpiresAt()), jsTime(s.UpdatedAt())
	ttl := ttlSeconds(s.ExpiresAt(), now)
	if ttl <= 0 {
		return nil
	}
	val, _ := json.Marshal(e)
	if err := c.rdb.SetArgs(ctx, sessionKey(s.Token()), val, redis.SetArgs{Mode: "XX", TTL: time.Duration(ttl) * time.Second}).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	l, err := c.list(ctx, s.UserID())
	if err != nil {
		return err
	}
	l = append(live(l, now, func(t string) bool { return t == s.Token() }),
		listEntry{Token: s.Token(), ExpiresAt: s.ExpiresAt().UnixMilli()})
	setList(ctx, c.rdb, s.UserID(), l, now)
	return nil
}

// drop is deleteSession: the entry leaves its user's list, then <token> goes.
func (c *cache) drop(ctx context.Context, token string) error {
	ctx, cancel := c.call(ctx)
	defer cancel()
	raw, err := c.rdb.Get(ctx, sessionKey(token)).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	var e envelope
	if err == nil && json.Unmarshal([]byte(raw), &e) == nil && e.Session.UserID != "" {
		now := c.clock.Now()
		l, err := c.list(ctx, e.Session.UserID)
		if err != nil {
			return err
		}
		if l != nil {
			setList(ctx, c.rdb, e.Session.UserID, live(l, now, func(t string) bool { return t == token }), now)
		}
	}
	return c.rdb.Del(ctx, sessionKey(token)).Err()
}

// revoke is deleteCachedUserSessions: the marker moves to at (never back),
// which refuses every cached session of the user made before it, then the
// listed values go, and the list keeps only what is left.
func (c *cache) revoke(ctx context.Context, userID string, at time.Time, drop func(token string) bool) error {
	ctx, cancel := c.call(ctx)
	defer cancel()
	old, err := c.rdb.Get(ctx, revokedKey(userID)).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	ms := float64(at.UnixMilli())
	if o, err := strconv.ParseFloat(old, 64); err == nil && o > ms {
		ms = o
	}
	if err := c.rdb.Set(ctx, revokedKey(userID), strconv.FormatFloat(ms, 'f', -1, 64), revokedBeforeTTL).Err(); err != nil {
		return err
	}
	return c.evict(ctx, userID, drop)
}

// all and allBut are evict's usual choices of tokens.
func all(string) bool { return true }

func allBut(except string) func(string) bool { return func(t string) bool { return t != except } }

// evict deletes the cached values of the user's listed sessions that drop
// picks (better-auth's deleteSessions), so that reads go to the database,
// and keeps the list to the rest.
func (c *cache) evict(ctx context.Context, userID string, drop func(token string) bool) error {
	ctx, cancel := c.call(ctx)
	defer cancel()
	l, err := c.list(ctx, userID)
	if err != nil || len(l) == 0 {
		return err
	}
	var keys []string
	for _, e := range l {
		if drop(e.Token) {
			keys = append(keys, sessionKey(e.Token))
		}
	}
	now := c.clock.Now()
	_, err = c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		// One DEL per key: in a Cluster they live on different slots.
		for _, k := range keys {
			p.Del(ctx, k)
		}
		setList(ctx, p, userID, live(l, now, drop), now)
		return nil
	})
	return err
}

// refreshUser is refreshUserSessions: every live listed session is
// rewritten with the user as it now is.
func (c *cache) refreshUser(ctx context.Context, u core.User) error {
	ctx, cancel := c.call(ctx)
	defer cancel()
	now := c.clock.Now()
	l, err := c.list(ctx, u.ID())
	if err != nil {
		return err
	}
	user := marshalUser(u, c.twoFactor)
	for _, e := range live(l, now, func(string) bool { return false }) {
		raw, err := c.rdb.Get(ctx, sessionKey(e.Token)).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return err
		}
		var env envelope
		if json.Unmarshal([]byte(raw), &env) != nil {
			continue
		}
		ttl := ttlSeconds(env.Session.ExpiresAt.time(), now)
		if ttl <= 0 {
			continue
		}
		env.User = user
		val, _ := json.Marshal(env)
		err = c.rdb.SetArgs(ctx, sessionKey(e.Token), val, redis.SetArgs{Mode: "XX", TTL: time.Duration(ttl) * time.Second}).Err()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
	}
	return nil
}

// apply makes the removal e owes.
func (c *cache) apply(ctx context.Context, e core.CacheEntry) error {
	switch e.Kind {
	case core.CacheDropSession:
		return c.drop(ctx, e.Subject)
	case core.CacheRevokeUser:
		return c.revoke(ctx, e.Subject, e.At, all)
	default:
		return c.evict(ctx, e.Subject, all)
	}
}
