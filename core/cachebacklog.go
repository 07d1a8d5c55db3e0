package core

import (
	"context"
	"time"
)

// Kinds of CacheEntry: what a replay must remove from the session cache
// (better-auth's secondaryStorage) before it may be read again.
const (
	// CacheDropSession: the session of the token Subject is gone.
	CacheDropSession = "session"
	// CacheRevokeUser: every session of user Subject made before At is
	// gone (better-auth's revoked-sessions-before marker).
	CacheRevokeUser = "revoke-user"
	// CacheEvictUser: the cached copies of user Subject's sessions are
	// stale (the user changed, or some of its sessions went); the database
	// holds the truth.
	CacheEvictUser = "evict-user"
)

// CacheEntry is one removal from the session cache that could not be made
// when the database changed.
type CacheEntry struct {
	ID      int64
	Kind    string
	Subject string
	At      time.Time
}

// CacheBacklog keeps, in the database every instance shares, the removals
// from the session cache that are owed: while one is pending, a cached
// session may be one the database has revoked, so no instance may answer
// from the cache until the backlog is empty.
type CacheBacklog interface {
	// Add records e (its ID is assigned); inside WithinTx it commits with
	// the transaction, so a revocation and the duty to replay it cannot
	// part.
	Add(ctx context.Context, e CacheEntry) error
	// Pending returns at most limit entries, oldest first; none when the
	// backlog is empty.
	Pending(ctx context.Context, limit int) ([]CacheEntry, error)
	// Done removes the entries with these ids; unknown ids are ignored.
	Done(ctx context.Context, ids []int64) error
}
