package core

import (
	"context"
	"errors"
)

// SessionOptions are get-session's switches: DontRemember is set when the
// client carries the dont_remember cookie (such sessions never slide),
// DisableRefresh mirrors the disableRefresh query flag.
type SessionOptions struct{ DontRemember, DisableRefresh bool }

// GetSession resolves a session token. ErrSessionNotFound when the token is
// unknown or the session expired (the expired row is deleted on the way).
// A valid session slides forward by SessionExpiresIn once SessionUpdateAge
// has passed since its expiry was last set; refreshed reports that, so the
// caller re-issues the cookie.
func (a *Auth) GetSession(ctx context.Context, token string, o SessionOptions) (v SessionView, refreshed bool, err error) {
	v, err = a.liveSession(ctx, token)
	if err != nil {
		return SessionView{}, false, err
	}
	now := a.now()
	if o.DontRemember || o.DisableRefresh || !v.Session.NeedsRefresh(now, a.p.SessionExpiresIn, a.p.SessionUpdateAge) {
		return v, false, nil
	}
	v.Session.Extend(now, a.p.SessionExpiresIn)
	err = a.d.Sessions.Update(ctx, v.Session)
	if errors.Is(err, ErrSessionNotFound) {
		// Revoked between the read and the write.
		return SessionView{}, false, ErrFailedToGetSession.With(err)
	}
	if err != nil {
		return SessionView{}, false, err
	}
	return v, true, nil
}

// RequireSession is the gate of session-required routes: the session as
// stored, never refreshed, or ErrSessionNotFound.
func (a *Auth) RequireSession(ctx context.Context, token string) (SessionView, error) {
	return a.liveSession(ctx, token)
}

// liveSession loads an unexpired session, deleting it if it has expired.
func (a *Auth) liveSession(ctx context.Context, token string) (SessionView, error) {
	if token == "" {
		return SessionView{}, ErrSessionNotFound
	}
	s, u, err := a.d.Sessions.ByToken(ctx, token)
	if err != nil {
		return SessionView{}, err
	}
	if s.Expired(a.now()) {
		if _, err := a.d.Sessions.DeleteByToken(ctx, token); err != nil {
			return SessionView{}, err
		}
		return SessionView{}, ErrSessionNotFound
	}
	return SessionView{Session: s, User: u}, nil
}

// SignOut deletes the session of token; an empty or unknown token is not an
// error (sign-out always succeeds).
func (a *Auth) SignOut(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	_, err := a.d.Sessions.DeleteByToken(ctx, token)
	return err
}

// CheckFresh is better-auth's freshSessionMiddleware: ErrSessionNotFresh
// when v was signed in more than SessionFreshAge ago.
func (a *Auth) CheckFresh(v SessionView) error {
	if !v.Session.Fresh(a.now(), a.p.SessionFreshAge) {
		return ErrSessionNotFresh
	}
	return nil
}

// ListSessions returns the user's unexpired sessions. It needs a fresh
// session (signed in less than SessionFreshAge ago).
func (a *Auth) ListSessions(ctx context.Context, v SessionView) ([]Session, error) {
	now := a.now()
	if !v.Session.Fresh(now, a.p.SessionFreshAge) {
		return nil, ErrSessionNotFresh
	}
	all, err := a.d.Sessions.ListByUser(ctx, v.User.ID())
	if err != nil {
		return nil, err
	}
	live := make([]Session, 0, len(all))
	for _, s := range all {
		if s.ExpiresAt().After(now) {
			live = append(live, s)
		}
	}
	return live, nil
}

// RevokeSession deletes the session of token if it belongs to the caller;
// unknown and foreign tokens are ignored without error, so the call reveals
// nothing about other users' sessions. revokedCurrent tells the caller to
// clear its cookies.
func (a *Auth) RevokeSession(ctx context.Context, v SessionView, token string) (revokedCurrent bool, err error) {
	if token == "" {
		return false, nil
	}
	s, _, err := a.d.Sessions.ByToken(ctx, token)
	if errors.Is(err, ErrSessionNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if s.UserID() != v.User.ID() {
		return false, nil
	}
	if _, err := a.d.Sessions.DeleteByToken(ctx, token); err != nil {
		return false, err
	}
	return token == v.Session.Token(), nil
}

// RevokeSessions deletes every session of the caller, the current one included.
func (a *Auth) RevokeSessions(ctx context.Context, v SessionView) error {
	_, err := a.d.Sessions.DeleteByUser(ctx, v.User.ID(), "")
	return err
}

// RevokeOtherSessions deletes every session of the caller except the current one.
func (a *Auth) RevokeOtherSessions(ctx context.Context, v SessionView) error {
	_, err := a.d.Sessions.DeleteByUser(ctx, v.User.ID(), v.Session.Token())
	return err
}

// ListAccounts returns the caller's linked accounts.
func (a *Auth) ListAccounts(ctx context.Context, v SessionView) ([]Account, error) {
	return a.d.Accounts.ListByUser(ctx, v.User.ID())
}
