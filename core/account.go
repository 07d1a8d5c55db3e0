package core

import (
	"strings"
	"time"
)

// ProviderCredential is better-auth's provider id for email/password accounts.
const ProviderCredential = "credential"

// Account links a User to a way of signing in. The credential account holds the
// password hash; OAuth accounts hold provider tokens, which are never returned
// to clients.
type Account struct {
	id                    string
	userID                string
	accountID             string
	providerID            string
	accessToken           *string
	refreshToken          *string
	idToken               *string
	accessTokenExpiresAt  *time.Time
	refreshTokenExpiresAt *time.Time
	scope                 *string
	password              *string
	createdAt             time.Time
	updatedAt             time.Time
}

// AccountRecord is the storage form of an Account (see UserRecord).
type AccountRecord struct {
	ID                    string
	UserID                string
	AccountID             string
	ProviderID            string
	AccessToken           *string
	RefreshToken          *string
	IDToken               *string
	AccessTokenExpiresAt  *time.Time
	RefreshTokenExpiresAt *time.Time
	Scope                 *string
	Password              *string
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// NewCredentialAccount creates the email/password account of a user. As in
// better-auth, its accountId is the user's id.
func NewCredentialAccount(id, userID, passwordHash string, now time.Time) (Account, error) {
	if id == "" || userID == "" || passwordHash == "" {
		return Account{}, &Error{Kind: KindInternal, Code: "INVALID_ACCOUNT", Message: "incomplete account"}
	}
	return Account{id: id, userID: userID, accountID: userID, providerID: ProviderCredential,
		password: &passwordHash, createdAt: now, updatedAt: now}, nil
}

// RehydrateAccount rebuilds an Account from storage. It is not a constructor.
func RehydrateAccount(r AccountRecord) Account {
	return Account{id: r.ID, userID: r.UserID, accountID: r.AccountID, providerID: r.ProviderID,
		accessToken: cloneStr(r.AccessToken), refreshToken: cloneStr(r.RefreshToken), idToken: cloneStr(r.IDToken),
		accessTokenExpiresAt: cloneTime(r.AccessTokenExpiresAt), refreshTokenExpiresAt: cloneTime(r.RefreshTokenExpiresAt),
		scope: cloneStr(r.Scope), password: cloneStr(r.Password), createdAt: r.CreatedAt, updatedAt: r.UpdatedAt}
}

func (a Account) Record() AccountRecord {
	return AccountRecord{ID: a.id, UserID: a.userID, AccountID: a.accountID, ProviderID: a.providerID,
		AccessToken: cloneStr(a.accessToken), RefreshToken: cloneStr(a.refreshToken), IDToken: cloneStr(a.idToken),
		AccessTokenExpiresAt: cloneTime(a.accessTokenExpiresAt), RefreshTokenExpiresAt: cloneTime(a.refreshTokenExpiresAt),
		Scope: cloneStr(a.scope), Password: cloneStr(a.password), CreatedAt: a.createdAt, UpdatedAt: a.updatedAt}
}

func (a Account) ID() string           { return a.id }
func (a Account) UserID() string       { return a.userID }
func (a Account) AccountID() string    { return a.accountID }
func (a Account) ProviderID() string   { return a.providerID }
func (a Account) CreatedAt() time.Time { return a.createdAt }
func (a Account) UpdatedAt() time.Time { return a.updatedAt }

// PasswordHash returns the stored hash and whether there is one.
func (a Account) PasswordHash() (string, bool) {
	if a.password == nil || *a.password == "" {
		return "", false
	}
	return *a.password, true
}

// Scopes splits the comma-separated scope column as better-auth does,
// trimmed, without empty entries.
func (a Account) Scopes() []string {
	out := []string{}
	if a.scope == nil || *a.scope == "" {
		return out
	}
	for _, s := range strings.Split(*a.scope, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// OAuthTokens are what a provider granted, as an account row stores them.
// Nil fields are unknown.
type OAuthTokens struct {
	AccessToken, RefreshToken, IDToken          *string
	AccessTokenExpiresAt, RefreshTokenExpiresAt *time.Time
}

// NewOAuthAccount links userID to the provider's subject accountID. scope
// is the comma-joined granted scopes, as better-auth stores them (nil:
// none known).
func NewOAuthAccount(id, userID, providerID, accountID string, t OAuthTokens, scope *string, now time.Time) (Account, error) {
	if id == "" || userID == "" || providerID == "" || accountID == "" || providerID == ProviderCredential {
		return Account{}, &Error{Kind: KindInternal, Code: "INVALID_ACCOUNT", Message: "incomplete account"}
	}
	a := Account{id: id, userID: userID, accountID: accountID, providerID: providerID, scope: cloneStr(scope),
		createdAt: now, updatedAt: now}
	a.SetTokens(t, now)
	return a, nil
}

// SetTokens stores the tokens of t that are known and keeps the others, as
// better-auth updates an account on each sign-in and refresh.
func (a *Account) SetTokens(t OAuthTokens, now time.Time) {
	set := func(dst **string, v *string) {
		if v != nil {
			*dst = cloneStr(v)
		}
	}
	set(&a.accessToken, t.AccessToken)
	set(&a.refreshToken, t.RefreshToken)
	set(&a.idToken, t.IDToken)
	if t.AccessTokenExpiresAt != nil {
		a.accessTokenExpiresAt = cloneTime(t.AccessTokenExpiresAt)
	}
	if t.RefreshTokenExpiresAt != nil {
		a.refreshTokenExpiresAt = cloneTime(t.RefreshTokenExpiresAt)
	}
	a.updatedAt = now
}

// Tokens returns the stored tokens as they are in the row (possibly sealed).
func (a Account) Tokens() OAuthTokens {
	return OAuthTokens{AccessToken: cloneStr(a.accessToken), RefreshToken: cloneStr(a.refreshToken),
		IDToken: cloneStr(a.idToken), AccessTokenExpiresAt: cloneTime(a.accessTokenExpiresAt),
		RefreshTokenExpiresAt: cloneTime(a.refreshTokenExpiresAt)}
}

// Scope is the raw comma-separated scope column ("" when NULL).
func (a Account) Scope() string {
	if a.scope == nil {
		return ""
	}
	return *a.scope
}

func (a *Account) SetScope(scope string, now time.Time) { a.scope = &scope; a.updatedAt = now }
