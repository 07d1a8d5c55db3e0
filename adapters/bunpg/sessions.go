package bunpg

import (
	"context"
	"database/sql"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/authd/authd/adapters/bunpg/internal/pgconn"
	"github.com/authd/authd/core"
)

// SessionRepository stores core.Session in table "session".
type SessionRepository struct {
	store
	byTokens *pgconn.Query
	lookups  *pgconn.Lookups[sessionUserRow]
}

var _ core.SessionRepository = (*SessionRepository)(nil)

func NewSessionRepository(db *bun.DB, cfg Config) *SessionRepository {
	cfg = cfg.withDefaults()
	p := pgconn.NewQuery(db.DB, byTokensSQL, 15, cfg.MaxOpenConns+1, !cfg.NoPreparedStatements)
	return &SessionRepository{store: newStore(db, cfg), byTokens: p, lookups: pgconn.NewLookups(p, cfg.SessionLookups, scanSessionUserByToken)}
}

// sessionUserRow is one row of byTokensSQL.
type sessionUserRow struct {
	s sessionRow
	u userRow
}

// byTokensSQL is get-session's lookup for a batch of tokens ($1, a text
// array); scanSessionUser reads its columns in this order.
const byTokensSQL = `SELECT s.token, s.id, s.expires_at, s.created_at, s.updated_at, s.ip_address, s.user_agent, s.user_id,
	u.name, u.email, u.email_verified, u.image, u.created_at, u.updated_at, u.two_factor_enabled
FROM unnest($1::text[]) AS t(token)
JOIN session AS s ON s.token = t.token
JOIN "user" AS u ON u.id = s.user_id`

func scanSessionUser(scan func(dest ...any) error) (sessionUserRow, error) {
	var r sessionUserRow
	var ip, ua, image sql.Null[string]
	err := scan(&r.s.Token, &r.s.ID, &r.s.ExpiresAt, &r.s.CreatedAt, &r.s.UpdatedAt, &ip, &ua, &r.s.UserID,
		&r.u.Name, &r.u.Email, &r.u.EmailVerified, &image, &r.u.CreatedAt, &r.u.UpdatedAt,
		&r.u.TwoFactorEnabled)
	r.u.ID = r.s.UserID
	r.s.IPAddress, r.s.UserAgent, r.u.Image = nullPtr(ip), nullPtr(ua), nullPtr(image)
	return r, err
}

func scanSessionUserByToken(scan func(dest ...any) error) (string, sessionUserRow, error) {
	r, err := scanSessionUser(scan)
	return r.s.Token, r, err
}

func (r *SessionRepository) Create(ctx context.Context, s core.Session) error {
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	_, err := db.NewInsert().Model(sessionToRow(s)).Exec(ctx)
	return mapErr(err, core.ErrSessionNotFound)
}

// ByToken is get-session's hot path: session joined to user, one prepared
// statement shared with the lookups running at the same moment (see
// pgconn.Lookups), scanned without Bun's reflection.
func (r *SessionRepository) ByToken(ctx context.Context, token string) (core.Session, core.User, error) {
	// No session has such a token, and Postgres would refuse the text,
	// failing every lookup batched with it.
	if strings.IndexByte(token, 0) >= 0 || !utf8.ValidString(token) {
		return core.Session{}, core.User{}, core.ErrSessionNotFound
	}
	ctx, db, cancel := r.call(ctx)
	defer cancel()
	var row sessionUserRow
	var err error
	if tx, ok := db.(bun.Tx); ok {
		found := false
		err = r.byTokens.Rows(ctx, tx, func(scan func(dest ...any) error) (scanErr error) {
			row, scanErr = scanSessionUser(scan)
			found = true
			return scanErr
		}, pgconn.TextArray([]string{token}))
		if err == nil && !found {
			err = sql.ErrNoRows
		}
	} else {
		row, err = r.lookups.Get(ctx, token)
	}
	if err != nil {
		return core.Session{}, core.User{}, mapErr(err, core.ErrSessionNotFound)
	}
	return row.s.toCore(), row.u.toCore(), nil
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

func (r *SessionRepository) DeleteExpired(ctx context.Context, t time.Time, limit int) (int, error) {
	return deleteExpired(ctx, r.store, "session", t, limit)
}
