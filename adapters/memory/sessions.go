package memory

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/authd/authd/core"
)

// SessionRepository stores sessions in a Store.
type SessionRepository struct{ s *Store }

var _ core.SessionRepository = (*SessionRepository)(nil)

func (r *SessionRepository) Create(ctx context.Context, s core.Session) error {
	rec := s.Record()
	rec.ID, rec.Token, rec.UserID = strings.Clone(rec.ID), strings.Clone(rec.Token), strings.Clone(rec.UserID)
	rec.IPAddress, rec.UserAgent = strings.Clone(rec.IPAddress), strings.Clone(rec.UserAgent)
	return r.s.do(ctx, func(t *tables) error {
		if _, ok := t.users[rec.UserID]; !ok {
			return core.ErrUserNotFound
		}
		if _, taken := t.sessions[rec.Token]; taken {
			return core.ErrDuplicate
		}
		if _, taken := t.sessionIDs[rec.ID]; taken {
			return core.ErrDuplicate
		}
		t.sessions[rec.Token] = rec
		t.sessionIDs[rec.ID] = rec.Token
		return nil
	})
}

func (r *SessionRepository) ByToken(ctx context.Context, token string) (core.Session, core.User, error) {
	var (
		s core.Session
		u core.User
	)
	err := r.s.do(ctx, func(t *tables) error {
		rec, ok := t.sessions[token]
		if !ok {
			return core.ErrSessionNotFound
		}
		s, u = core.RehydrateSession(rec), core.RehydrateUser(t.users[rec.UserID])
		return nil
	})
	return s, u, err
}

func (r *SessionRepository) ListByUser(ctx context.Context, userID string) ([]core.Session, error) {
	var out []core.Session
	err := r.s.do(ctx, func(t *tables) error {
		var recs []core.SessionRecord
		for _, rec := range t.sessions {
			if rec.UserID == userID {
				recs = append(recs, rec)
			}
		}
		slices.SortFunc(recs, func(a, b core.SessionRecord) int {
			return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
		})
		out = make([]core.Session, len(recs))
		for i, rec := range recs {
			out[i] = core.RehydrateSession(rec)
		}
		return nil
	})
	return out, err
}

func (r *SessionRepository) Update(ctx context.Context, s core.Session) error {
	return r.s.do(ctx, func(t *tables) error {
		rec, ok := t.sessions[s.Token()]
		if !ok {
			return core.ErrSessionNotFound
		}
		rec.ExpiresAt, rec.UpdatedAt = s.ExpiresAt(), s.UpdatedAt()
		t.sessions[rec.Token] = rec
		return nil
	})
}

func (r *SessionRepository) DeleteByToken(ctx context.Context, token string) (bool, error) {
	var existed bool
	err := r.s.do(ctx, func(t *tables) error {
		var rec core.SessionRecord
		if rec, existed = t.sessions[token]; existed {
			delete(t.sessions, token)
			delete(t.sessionIDs, rec.ID)
		}
		return nil
	})
	return existed, err
}

func (r *SessionRepository) DeleteByUser(ctx context.Context, userID, exceptToken string) (int, error) {
	return r.deleteWhere(ctx, func(rec core.SessionRecord) bool {
		return rec.UserID == userID && rec.Token != exceptToken
	})
}

func (r *SessionRepository) DeleteExpired(ctx context.Context, before time.Time, limit int) (int, error) {
	n := 0
	err := r.s.do(ctx, func(t *tables) error {
		for token, rec := range t.sessions {
			if n == limit {
				break
			}
			if rec.ExpiresAt.Before(before) {
				delete(t.sessions, token)
				delete(t.sessionIDs, rec.ID)
				n++
			}
		}
		return nil
	})
	return n, err
}

func (r *SessionRepository) deleteWhere(ctx context.Context, match func(core.SessionRecord) bool) (int, error) {
	n := 0
	err := r.s.do(ctx, func(t *tables) error {
		for token, rec := range t.sessions {
			if match(rec) {
				delete(t.sessions, token)
				delete(t.sessionIDs, rec.ID)
				n++
			}
		}
		return nil
	})
	return n, err
}
