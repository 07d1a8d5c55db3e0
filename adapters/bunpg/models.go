package bunpg

import (
	"database/sql"
	"time"

	"github.com/uptrace/bun"

	"github.com/authd/authd/core"
)

// Row models mirror the tables in migrations/ column for column. Times are
// stored as "timestamp" holding UTC: pgdialect writes time.Time in UTC and
// pgdriver reads "timestamp" back as UTC, and the mappers below make sure no
// other location reaches core.

type userRow struct {
	bun.BaseModel `bun:"table:user,alias:u"`

	ID            string    `bun:"id,pk"`
	Name          string    `bun:"name,notnull"`
	Email         string    `bun:"email,notnull"`
	EmailVerified bool      `bun:"email_verified,notnull"`
	Image         *string   `bun:"image"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
	UpdatedAt     time.Time `bun:"updated_at,notnull"`
	// The twoFactor plugin's flag; written only by TwoFactorRepository.
	TwoFactorEnabled bool `bun:"two_factor_enabled,notnull"`

	Sessions []*sessionRow `bun:"rel:has-many,join:id=user_id"`
	Accounts []*accountRow `bun:"rel:has-many,join:id=user_id"`
}

type sessionRow struct {
	bun.BaseModel `bun:"table:session,alias:s"`

	ID        string    `bun:"id,pk"`
	ExpiresAt time.Time `bun:"expires_at,notnull"`
	Token     string    `bun:"token,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
	// Nullable in the schema; better-auth writes "" when unknown, and so do we.
	IPAddress *string `bun:"ip_address"`
	UserAgent *string `bun:"user_agent"`
	UserID    string  `bun:"user_id,notnull"`

	User *userRow `bun:"rel:belongs-to,join:user_id=id"`
}

type accountRow struct {
	bun.BaseModel `bun:"table:account,alias:a"`

	ID                    string     `bun:"id,pk"`
	AccountID             string     `bun:"account_id,notnull"`
	ProviderID            string     `bun:"provider_id,notnull"`
	UserID                string     `bun:"user_id,notnull"`
	AccessToken           *string    `bun:"access_token"`
	RefreshToken          *string    `bun:"refresh_token"`
	IDToken               *string    `bun:"id_token"`
	AccessTokenExpiresAt  *time.Time `bun:"access_token_expires_at"`
	RefreshTokenExpiresAt *time.Time `bun:"refresh_token_expires_at"`
	Scope                 *string    `bun:"scope"`
	Password              *string    `bun:"password"`
	CreatedAt             time.Time  `bun:"created_at,notnull"`
	UpdatedAt             time.Time  `bun:"updated_at,notnull"`

	User *userRow `bun:"rel:belongs-to,join:user_id=id"`
}

type verificationRow struct {
	bun.BaseModel `bun:"table:verification,alias:v"`

	ID         string    `bun:"id,pk"`
	Identifier string    `bun:"identifier,notnull"`
	Value      string    `bun:"value,notnull"`
	ExpiresAt  time.Time `bun:"expires_at,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
	UpdatedAt  time.Time `bun:"updated_at,notnull"`
}

func utc(t time.Time) time.Time { return t.UTC() }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func strPtr(s string) *string { return &s }

func nullPtr(s sql.Null[string]) *string {
	if !s.Valid {
		return nil
	}
	return &s.V
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func userToRow(u core.User) *userRow {
	r := u.Record()
	return &userRow{ID: r.ID, Name: r.Name, Email: r.Email, EmailVerified: r.EmailVerified, Image: r.Image,
		CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt), TwoFactorEnabled: r.TwoFactorEnabled}
}

func (r *userRow) toCore() core.User {
	return core.RehydrateUser(core.UserRecord{ID: r.ID, Name: r.Name, Email: r.Email, EmailVerified: r.EmailVerified,
		Image: r.Image, CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt), TwoFactorEnabled: r.TwoFactorEnabled})
}

func sessionToRow(s core.Session) *sessionRow {
	r := s.Record()
	return &sessionRow{ID: r.ID, ExpiresAt: utc(r.ExpiresAt), Token: r.Token, CreatedAt: utc(r.CreatedAt),
		UpdatedAt: utc(r.UpdatedAt), IPAddress: strPtr(r.IPAddress), UserAgent: strPtr(r.UserAgent), UserID: r.UserID}
}

func (r *sessionRow) toCore() core.Session {
	return core.RehydrateSession(core.SessionRecord{ID: r.ID, Token: r.Token, UserID: r.UserID,
		ExpiresAt: utc(r.ExpiresAt), IPAddress: deref(r.IPAddress), UserAgent: deref(r.UserAgent),
		CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)})
}

func accountToRow(a core.Account) *accountRow {
	r := a.Record()
	return &accountRow{ID: r.ID, AccountID: r.AccountID, ProviderID: r.ProviderID, UserID: r.UserID,
		AccessToken: r.AccessToken, RefreshToken: r.RefreshToken, IDToken: r.IDToken,
		AccessTokenExpiresAt: utcPtr(r.AccessTokenExpiresAt), RefreshTokenExpiresAt: utcPtr(r.RefreshTokenExpiresAt),
		Scope: r.Scope, Password: r.Password, CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)}
}

func (r *accountRow) toCore() core.Account {
	return core.RehydrateAccount(core.AccountRecord{ID: r.ID, UserID: r.UserID, AccountID: r.AccountID,
		ProviderID: r.ProviderID, AccessToken: r.AccessToken, RefreshToken: r.RefreshToken, IDToken: r.IDToken,
		AccessTokenExpiresAt: utcPtr(r.AccessTokenExpiresAt), RefreshTokenExpiresAt: utcPtr(r.RefreshTokenExpiresAt),
		Scope: r.Scope, Password: r.Password, CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)})
}

func verificationToRow(v core.Verification) *verificationRow {
	r := v.Record()
	return &verificationRow{ID: r.ID, Identifier: r.Identifier, Value: r.Value, ExpiresAt: utc(r.ExpiresAt),
		CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)}
}

func (r *verificationRow) toCore() core.Verification {
	return core.RehydrateVerification(core.VerificationRecord{ID: r.ID, Identifier: r.Identifier, Value: r.Value,
		ExpiresAt: utc(r.ExpiresAt), CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)})
}
