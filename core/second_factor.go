package core

import "context"

// SecondFactor is what password sign-in asks, before it issues a session,
// whether the user must prove a second factor first. core/twofactor
// implements it; Deps.SecondFactor is nil when no such feature is on. The
// password flow knows nothing of the factors themselves.
type SecondFactor interface {
	// AtSignIn runs inside the sign-in's transaction once the password is
	// re-checked. trustDevice is the value of the client's trusted-device
	// cookie with its signature checked ("" when absent or forged).
	AtSignIn(ctx context.Context, u User, trustDevice string) (SignInGate, error)
}

// SignInGate is SecondFactor's answer to one sign-in.
type SignInGate struct {
	// Challenge, when set, stands in for the session: none is issued, and
	// the client must complete the challenge to get one.
	Challenge *Challenge
	// TrustDevice, when set, is the trusted-device cookie's next value (a
	// trusted device is rotated on each use); ClearTrustDevice asks the
	// adapter to expire a cookie that no longer names a trusted device.
	TrustDevice      string
	ClearTrustDevice bool
}

// Challenge is a pending second-factor step: ID goes to the client (in a
// signed cookie), Methods are the factors it may use.
type Challenge struct {
	ID      string
	Methods []string
}

// Helpers for the feature packages of core, so that they check passwords
// and rotate sessions exactly as the password flows do.

// CheckPassword verifies pw against u's credential account, counting a
// wrong one against the account's budgets as a failed sign-in;
// ErrCredentialAccountMissing without one, ErrInvalidPassword when wrong.
func (a *Auth) CheckPassword(ctx context.Context, u User, pw string, meta RequestMeta) error {
	return a.checkPassword(ctx, u, pw, meta)
}

// RotateSession replaces old by a new session of the same user, client
// address and agent (better-auth's createSession(userId, false, old) then
// deleteSession(old)): a change of the user's two-factor state must not
// leave a token issued before it alive. Call it inside a transaction.
func (a *Auth) RotateSession(ctx context.Context, old Session) (Session, error) {
	s, err := a.IssueSession(ctx, SessionGrant{UserID: old.UserID(),
		Meta: RequestMeta{IP: old.IPAddress(), UserAgent: old.UserAgent()}})
	if err != nil {
		return Session{}, err
	}
	if _, err := a.d.Sessions.DeleteByToken(ctx, old.Token()); err != nil {
		return Session{}, err
	}
	return s, nil
}
