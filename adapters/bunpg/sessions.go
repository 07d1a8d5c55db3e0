package bunpg

import (
	"context"
	"database/sql"
	"time"

	"github.com/uptrace/bun"

	"github.com/authd/authd/core"
)

// SessionRepository stores core.Session in table "session".
type SessionRepository struct {
	store
	byToken *prepared
}

var _ core.SessionRepository = (*SessionRepository)(nil)

func NewSessionRepository(db *bun.DB, cfg Config) *SessionRepository {
	return &SessionRepository{store: newStore(db, cfg), byToken: newPrepared(db, cfg, byTokenSQL)}
}

// byTokenSQL is get-session's lookup; its columns are scanned by ByToken in
// this order.
const byTokenSQL = `SELECT s.id, s.expires_at, s.created_at, s.updated_at, s.ip_address, s.user_agent, s.user_id,
	u.name, u.email, u.email_verified, u.image, u.created_at, u.updated_at
FROM session AS s JOIN "user" AS u ON u.id = s.user_id
WHERE s.token = $1`

func (r *SessionRepository) Create(ctx context.Context, s core.Session) error {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	_, err := db.NewInsert().Model(sessionToRow(s)).Exec(ctx)
	return mapErr(err, core.ErrSessionNotFound)
}

// ByToken is get-session's hot path: one round trip of a prepared
// statement, session joined to user, scanned without Bun's reflection.
func (r *SessionRepository) ByToken(ctx context.Context, token string) (core.Session, core.User, error) {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	s := sessionRow{Token: token}
	var u userRow
	var ip, ua, image sql.Null[string]
	err := r.byToken.queryRow(ctx, db, []any{&s.ID, &s.ExpiresAt, &s.CreatedAt, &s.UpdatedAt, &ip, &ua, &s.UserID,
		&u.Name, &u.Email, &u.EmailVerified, &image, &u.CreatedAt, &u.UpdatedAt}, token)
	if err != nil {
		return core.Session{}, core.User{}, mapErr(err, core.ErrSessionNotFound)
	}
	u.ID = s.UserID
	s.IPAddress, s.UserAgent, u.Image = nullPtr(ip), nullPtr(ua), nullPtr(image)
	return s.toCore(), u.toCore(), nil
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
