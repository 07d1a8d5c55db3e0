package bunpg

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/authd/authd/core"
)

// SessionRepository stores core.Session in table "session".
type SessionRepository struct{ store }

var _ core.SessionRepository = (*SessionRepository)(nil)

func NewSessionRepository(db *bun.DB, cfg Config) *SessionRepository {
	return &SessionRepository{newStore(db, cfg)}
}

func (r *SessionRepository) Create(ctx context.Context, s core.Session) error {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	_, err := db.NewInsert().Model(sessionToRow(s)).Exec(ctx)
	return mapErr(err, core.ErrSessionNotFound)
}

// ByToken is get-session's hot path: one round trip, session joined to user.
func (r *SessionRepository) ByToken(ctx context.Context, token string) (core.Session, core.User, error) {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	var row sessionRow
	err := db.NewSelect().Model(&row).Relation("User").Where("s.token = ?", token).Scan(ctx)
	if err != nil {
		return core.Session{}, core.User{}, mapErr(err, core.ErrSessionNotFound)
	}
	return row.toCore(), row.User.toCore(), nil
}

func (r *SessionRepository) ListByUser(ctx context.Context, userID string) ([]core.Session, error) {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	var rows []sessionRow
	err := db.NewSelect().Model(&rows).Where("s.user_id = ?", userID).Order("s.created_at ASC", "s.id ASC").Scan(ctx)
	if err != nil {
		return nil, mapErr(err, core.ErrSessionNotFound)
	}
	out := make([]core.Session, len(rows))
	for i := range rows {
		out[i] = rows[i].toCore()
	}
	return out, nil
}

func (r *SessionRepository) Update(ctx context.Context, s core.Session) error {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	res, err := db.NewUpdate().Model(sessionToRow(s)).Column("expires_at", "updated_at").WherePK().Exec(ctx)
	return affected(res, err, core.ErrSessionNotFound)
}

func (r *SessionRepository) DeleteByToken(ctx context.Context, token string) (bool, error) {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	n, err := count(db.NewDelete().Model((*sessionRow)(nil)).Where("token = ?", token).Exec(ctx))
	return n > 0, err
}

func (r *SessionRepository) DeleteByUser(ctx context.Context, userID, exceptToken string) (int, error) {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	q := db.NewDelete().Model((*sessionRow)(nil)).Where("user_id = ?", userID)
	if exceptToken != "" {
		q = q.Where("token <> ?", exceptToken)
	}
	return count(q.Exec(ctx))
}

func (r *SessionRepository) DeleteExpired(ctx context.Context, t time.Time) (int, error) {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	return count(db.NewDelete().Model((*sessionRow)(nil)).Where("expires_at < ?", t.UTC()).Exec(ctx))
}
