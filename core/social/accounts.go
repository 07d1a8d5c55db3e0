package social

import (
	"context"
	"errors"
	"time"

	"github.com/authd/authd/core"
)

// Unlink is POST /unlink-account: accountID is the account row's id, and
// the session must be fresh.
func (s *Service) Unlink(ctx context.Context, v core.SessionView, accountID string) error {
	if err := s.d.Auth.CheckFresh(v); err != nil {
		return err
	}
	return s.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		accs, err := s.d.Accounts.ListByUser(ctx, v.User.ID())
		if err != nil {
			return err
		}
		if len(accs) == 1 && !s.c.Linking.AllowUnlinkingAll {
			return ErrLastAccount
		}
		return s.d.Accounts.Delete(ctx, v.User.ID(), accountID)
	})
}

// AccessToken is the answer of /get-access-token.
type AccessToken struct {
	AccessToken string
	ExpiresAt   *time.Time
	Scopes      []string
	IDToken     *string
}

// userAccount finds one of the user's accounts by row id and its provider.
func (s *Service) userAccount(ctx context.Context, userID, accountID string) (core.Account, Provider, error) {
	accs, err := s.d.Accounts.ListByUser(ctx, userID)
	if err != nil {
		return core.Account{}, nil, err
	}
	for _, a := range accs {
		if a.ID() != accountID {
			continue
		}
		p, _, ok := s.provider(ctx, a.ProviderID())
		if !ok {
			return core.Account{}, nil, ErrProviderNotSupported
		}
		return a, p, nil
	}
	return core.Account{}, nil, ErrAccountNotFound
}

// GetAccessToken is POST /get-access-token: the stored access token,
// refreshed first when it expires within 5 s and a refresh token exists.
func (s *Service) GetAccessToken(ctx context.Context, v core.SessionView, accountID string) (AccessToken, error) {
	acc, p, err := s.userAccount(ctx, v.User.ID(), accountID)
	if err != nil {
		return AccessToken{}, err
	}
	return s.validAccessToken(ctx, acc, p)
}

func (s *Service) validAccessToken(ctx context.Context, acc core.Account, p Provider) (AccessToken, error) {
	stored := acc.Tokens()
	out := AccessToken{ExpiresAt: stored.AccessTokenExpiresAt, Scopes: acc.Scopes(), IDToken: stored.IDToken}
	expiring := stored.AccessTokenExpiresAt != nil && stored.AccessTokenExpiresAt.Sub(s.now()) < refreshMargin
	if stored.RefreshToken != nil && *stored.RefreshToken != "" && expiring {
		fresh, err := s.refresh(ctx, acc, p)
		switch {
		case err == nil:
			out.AccessToken = fresh.AccessToken
			if fresh.plain.AccessTokenExpiresAt != nil {
				out.ExpiresAt = fresh.plain.AccessTokenExpiresAt
			}
			if fresh.IDToken != "" {
				out.IDToken = &fresh.IDToken
			}
			return out, nil
		case errors.Is(err, ErrRefreshNotSupported):
			// better-auth answers the stored token when the provider has
			// no refresh.
		case isInfra(err) && !errors.Is(err, errProvider):
			return AccessToken{}, err
		default:
			return AccessToken{}, ErrFailedToGetAccessToken
		}
	}
	at, err := s.open(stored.AccessToken)
	if err != nil {
		return AccessToken{}, ErrFailedToGetAccessToken
	}
	out.AccessToken = at
	return out, nil
}

// errProvider marks a failed call to the provider inside refresh.
var errProvider = errors.New("social: provider refused the refresh")

type refreshed struct {
	Tokens
	plain   core.OAuthTokens
	account core.Account
	// RefreshPlain is the refresh token now in force, in plain text.
	RefreshPlain string
}

// refresh runs one refresh grant and stores the result: the new access
// token and expiry; refresh token, its expiry and the id_token when sent;
// scope untouched.
func (s *Service) refresh(ctx context.Context, acc core.Account, p Provider) (refreshed, error) {
	rt, err := s.open(acc.Tokens().RefreshToken)
	if err != nil {
		return refreshed{}, errors.Join(errProvider, err)
	}
	t, err := p.Refresh(ctx, rt)
	if errors.Is(err, ErrRefreshNotSupported) {
		return refreshed{}, err
	}
	if err != nil || t.AccessToken == "" {
		return refreshed{}, errors.Join(errProvider, err)
	}
	sealedIn := s.accountTokens(t)
	sealed, err := s.seal(sealedIn)
	if err != nil {
		return refreshed{}, err
	}
	now := s.now()
	acc.SetTokens(sealed, now)
	if err := s.d.Accounts.Update(ctx, acc); err != nil {
		return refreshed{}, err
	}
	out := refreshed{Tokens: t, plain: sealedIn.plain, account: acc, RefreshPlain: t.RefreshToken}
	if out.RefreshPlain == "" {
		out.RefreshPlain = rt
	}
	return out, nil
}

// Refreshed is the answer of /refresh-token.
type Refreshed struct {
	AccessToken, RefreshToken string
	AccessTokenExpiresAt      *time.Time
	RefreshTokenExpiresAt     *time.Time
	Scope                     *string // the stored comma string; nil when NULL
	IDToken                   *string
	ProviderID, AccountID     string
}

// RefreshToken is POST /refresh-token: always one refresh grant.
func (s *Service) RefreshToken(ctx context.Context, v core.SessionView, accountID string) (Refreshed, error) {
	acc, p, err := s.userAccount(ctx, v.User.ID(), accountID)
	if err != nil {
		return Refreshed{}, err
	}
	if rt := acc.Tokens().RefreshToken; rt == nil || *rt == "" {
		return Refreshed{}, ErrRefreshTokenNotFound
	}
	r, err := s.refresh(ctx, acc, p)
	switch {
	case errors.Is(err, ErrRefreshNotSupported):
		return Refreshed{}, ErrRefreshNotSupported
	case errors.Is(err, errProvider):
		return Refreshed{}, ErrFailedToRefreshToken
	case err != nil && isInfra(err):
		return Refreshed{}, err
	case err != nil:
		return Refreshed{}, ErrFailedToRefreshToken
	}
	stored := r.account.Tokens()
	return Refreshed{AccessToken: r.AccessToken, RefreshToken: r.RefreshPlain,
		AccessTokenExpiresAt: r.plain.AccessTokenExpiresAt, RefreshTokenExpiresAt: stored.RefreshTokenExpiresAt,
		Scope: r.account.Record().Scope, IDToken: stored.IDToken, ProviderID: acc.ProviderID(), AccountID: acc.ID()}, nil
}

// AccountInfo is the provider's current view of one linked account.
type AccountInfo struct {
	Profile Profile
	Account core.Account
}

// AccountInfo is GET /account-info: a valid access token, then the
// provider's identity step again (an OIDC id_token is verified anew, without
// nonce, so an expired one fails).
func (s *Service) AccountInfo(ctx context.Context, v core.SessionView, accountID string) (AccountInfo, error) {
	acc, p, err := s.userAccount(ctx, v.User.ID(), accountID)
	if errors.Is(err, ErrProviderNotSupported) {
		return AccountInfo{}, ErrProviderNotConfigured
	}
	if err != nil {
		return AccountInfo{}, err
	}
	tok, err := s.validAccessToken(ctx, acc, p)
	if err != nil {
		return AccountInfo{}, err
	}
	if tok.AccessToken == "" {
		return AccountInfo{}, ErrAccessTokenNotFound
	}
	t := Tokens{AccessToken: tok.AccessToken}
	if tok.IDToken != nil {
		t.IDToken = *tok.IDToken
	}
	prof, err := p.UserInfo(ctx, t, "")
	if err != nil {
		return AccountInfo{}, ErrFailedToGetUserInfo
	}
	return AccountInfo{Profile: prof, Account: acc}, nil
}
