package social

import (
	"context"
	"errors"
	"strings"

	"github.com/authd/authd/core"
)

// IDTokenInput is the idToken branch of /sign-in/social and /link-social:
// an id_token the client obtained from the provider itself.
type IDTokenInput struct {
	ProviderID                string
	Token, Nonce              string
	AccessToken, RefreshToken string
	RequestSignUp             bool
	Meta                      core.RequestMeta
}

// verifyIDToken checks the token with the provider and returns who it is
// about, with better-auth's refusals.
func (s *Service) verifyIDToken(ctx context.Context, in IDTokenInput) (Profile, Info, error) {
	p, info, ok := s.provider(ctx, in.ProviderID)
	if !ok {
		return Profile{}, Info{}, ErrProviderNotFound
	}
	prof, err := p.VerifyIDToken(ctx, in.Token, in.Nonce)
	switch {
	case errors.Is(err, ErrIDTokenNotSupported), errors.Is(err, ErrInvalidToken):
		return Profile{}, Info{}, err
	case err != nil:
		return Profile{}, Info{}, ErrFailedToGetUserInfo
	case prof.Email == "":
		return Profile{}, Info{}, ErrUserEmailNotFound
	case strings.TrimSpace(prof.ID) == "":
		return Profile{}, Info{}, ErrFailedToGetUserInfo
	}
	return prof, info, nil
}

// SignInIDToken signs in with a verified id_token: the same user and
// account resolution as the callback, the account storing the id_token
// (and the access token when sent, never the refresh token).
func (s *Service) SignInIDToken(ctx context.Context, in IDTokenInput) (core.User, core.Session, error) {
	prof, info, err := s.verifyIDToken(ctx, in)
	if err != nil {
		return core.User{}, core.Session{}, err
	}
	t := s.accountTokens(Tokens{IDToken: in.Token, AccessToken: in.AccessToken})
	disableSignUp := info.DisableImplicitSignUp && !in.RequestSignUp || info.DisableSignUp
	out, err := s.signIn(ctx, in.ProviderID, prof, t, nil, disableSignUp, in.Meta)
	var r *refusal
	if errors.As(err, &r) {
		if e, ok := oauthLinkErrors[r.code]; ok {
			return core.User{}, core.Session{}, e
		}
		return core.User{}, core.Session{}, ErrOAuthUnableToLink
	}
	if err != nil {
		return core.User{}, core.Session{}, err
	}
	return out.user, out.session, nil
}

// LinkIDToken links the provider account of a verified id_token to the
// signed-in user of v, at once.
func (s *Service) LinkIDToken(ctx context.Context, v core.SessionView, in IDTokenInput) error {
	prof, _, err := s.verifyIDToken(ctx, in)
	if err != nil {
		return err
	}
	t := s.accountTokens(Tokens{IDToken: in.Token, AccessToken: in.AccessToken, RefreshToken: in.RefreshToken})
	return s.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		now := s.now()
		acc, err := s.d.Accounts.ByProviderAccount(ctx, in.ProviderID, prof.ID)
		switch {
		case err == nil && acc.UserID() == v.User.ID():
			sealed, err := s.seal(t)
			if err != nil {
				return err
			}
			acc.SetTokens(sealed, now)
			if err := s.d.Accounts.Update(ctx, acc); err != nil {
				return err
			}
			return s.linkedUserInfo(ctx, v.User.ID(), prof, now)
		case err == nil:
			return ErrSocialAccountLinked
		case !errors.Is(err, core.ErrAccountNotFound):
			return err
		}
		if !s.trusted(in.ProviderID) && !prof.EmailVerified || !s.c.Linking.Enabled {
			return ErrLinkingNotAllowed
		}
		if !strings.EqualFold(prof.Email, v.User.Email()) && !s.c.Linking.AllowDifferentEmails {
			return ErrLinkingDifferentEmails
		}
		err = s.addAccount(ctx, v.User.ID(), in.ProviderID, prof.ID, t, nil, now)
		var r *refusal
		if errors.As(err, &r) {
			return ErrLinkingFailed
		}
		if err != nil {
			return err
		}
		return s.linkedUserInfo(ctx, v.User.ID(), prof, now)
	})
}
