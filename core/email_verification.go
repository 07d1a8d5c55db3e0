package core

import (
	"context"
	"errors"
	"time"
)

// verificationMailFloor is better-auth's minimum duration of an anonymous
// send-verification-email call: with it, a mail being sent (the address has an
// unverified account) takes no longer than nothing being sent.
const verificationMailFloor = 500 * time.Millisecond

// SendVerificationEmail mails a verification link for email.
//
// Without a session (v nil) the answer is nil whether or not the address has
// an account, and it comes no sooner than 500 ms after the call started; a
// mail goes out only to an existing, unverified account. With a session the
// address must be the caller's (ErrEmailMismatch) and not yet verified
// (ErrEmailAlreadyVerified).
func (a *Auth) SendVerificationEmail(ctx context.Context, v *SessionView, email, callbackURL string) error {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	if v != nil {
		if norm != v.User.Email() {
			return ErrEmailMismatch
		}
		if v.User.EmailVerified() {
			return ErrEmailAlreadyVerified
		}
		return a.sendVerificationMail(ctx, v.User, callbackURL)
	}

	// Real time, not Deps.Clock: the floor is about what a caller can measure.
	floor := time.NewTimer(verificationMailFloor)
	defer floor.Stop()
	err = a.sendVerificationIfUnverified(ctx, norm, callbackURL)
	select {
	case <-floor.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	return err
}

func (a *Auth) sendVerificationIfUnverified(ctx context.Context, email, callbackURL string) error {
	u, err := a.d.Users.ByEmail(ctx, email)
	if errors.Is(err, ErrUserNotFound) {
		// Sign a token anyway, as better-auth does, so that a broken signer
		// fails both branches alike.
		_, err := a.signEmailToken(EmailClaims{Email: email})
		return err
	}
	if err != nil {
		return err
	}
	if u.EmailVerified() {
		_, err := a.signEmailToken(EmailClaims{Email: email, UserID: u.ID()})
		return err
	}
	return a.sendVerificationMail(ctx, u, callbackURL)
}

// VerifyEmailResult: EmailChanged is true when a change of email was applied
// (the caller re-sets its session cookie); User is then the updated user. A
// plain verification leaves User nil, as better-auth answers user:null.
// ConfirmationSent is true when the old address approved a change and the new
// address was mailed its link (better-auth then answers without "user").
type VerifyEmailResult struct {
	User             *User
	EmailChanged     bool
	ConfirmationSent bool
}

// VerifyEmail redeems a verification JWT (GET /verify-email). Tokens are
// stateless and stay valid until they expire.
//
//   - plain token: marks the address verified (already verified: no-op);
//   - change-email-confirmation (approved from the old address): mails the
//     new address a change-email-verification link, changes nothing yet;
//   - change-email-verification: sets the new address, verified, since the
//     link reached it;
//   - change token without a request type (older better-auth): sets the new
//     address unverified and mails it a verification link.
//
// current is the caller's session, if any; on a change of email it must be
// the same user's (ErrInvalidUser). callbackURL is the link's own, carried on
// to any link this step mails. Errors: ErrInvalidToken, ErrTokenExpired,
// ErrUserNotFound, ErrInvalidUser.
func (a *Auth) VerifyEmail(ctx context.Context, token, callbackURL string, current *SessionView) (VerifyEmailResult, error) {
	claims, err := a.d.EmailTokens.Parse(token, a.now())
	if errors.Is(err, ErrTokenExpired) {
		return VerifyEmailResult{}, ErrTokenExpired
	}
	if err != nil {
		return VerifyEmailResult{}, ErrInvalidToken.With(err)
	}
	email, err := NormalizeEmail(claims.Email)
	if err != nil {
		return VerifyEmailResult{}, ErrInvalidToken
	}
	// The user is read and written in one transaction, which holds the row,
	// so a concurrent update-user cannot undo the verification or the change.
	var res VerifyEmailResult
	err = a.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		var err error
		res, err = a.redeemEmailToken(ctx, email, claims, callbackURL, current)
		return err
	})
	if err != nil {
		return VerifyEmailResult{}, err
	}
	return res, nil
}

func (a *Auth) redeemEmailToken(ctx context.Context, email string, claims EmailClaims, callbackURL string, current *SessionView) (VerifyEmailResult, error) {
	u, err := a.d.Users.ByEmail(ctx, email)
	if errors.Is(err, ErrUserNotFound) {
		return VerifyEmailResult{}, ErrUserNotFound
	}
	if err != nil {
		return VerifyEmailResult{}, err
	}
	if claims.UserID != "" && claims.UserID != u.ID() {
		return VerifyEmailResult{}, ErrInvalidToken
	}
	if claims.UpdateTo != "" {
		return a.applyEmailChange(ctx, u, claims, callbackURL, current)
	}
	if claims.RequestType != "" {
		// A change-email request type without a target is not a token we
		// issue; never let it pass as a plain verification.
		return VerifyEmailResult{}, ErrInvalidToken
	}
	if u.EmailVerified() {
		return VerifyEmailResult{}, nil
	}
	u.MarkEmailVerified(a.now())
	if err := a.d.Users.Update(ctx, u); err != nil {
		return VerifyEmailResult{}, err
	}
	return VerifyEmailResult{}, nil
}

func (a *Auth) applyEmailChange(ctx context.Context, u User, c EmailClaims, callbackURL string, current *SessionView) (VerifyEmailResult, error) {
	if current != nil && current.User.ID() != u.ID() {
		return VerifyEmailResult{}, ErrInvalidUser
	}
	newEmail, err := NormalizeEmail(c.UpdateTo)
	if err != nil {
		return VerifyEmailResult{}, ErrInvalidToken
	}
	switch c.RequestType {
	case requestChangeEmailConfirmation:
		if err := a.sendChangeEmailVerification(ctx, u, newEmail, callbackURL); err != nil {
			return VerifyEmailResult{}, err
		}
		return VerifyEmailResult{ConfirmationSent: true}, nil
	case requestChangeEmailVerification:
		if err := u.ChangeEmail(newEmail, true, a.now()); err != nil {
			return VerifyEmailResult{}, ErrInvalidToken
		}
		if err := a.d.Users.Update(ctx, u); err != nil {
			return VerifyEmailResult{}, err
		}
		return VerifyEmailResult{User: &u, EmailChanged: true}, nil
	case "":
		if err := u.ChangeEmail(newEmail, false, a.now()); err != nil {
			return VerifyEmailResult{}, ErrInvalidToken
		}
		if err := a.d.Users.Update(ctx, u); err != nil {
			return VerifyEmailResult{}, err
		}
		// The change is committed; a failed mail must not undo its answer.
		_ = a.sendVerificationMail(ctx, u, callbackURL)
		return VerifyEmailResult{User: &u, EmailChanged: true}, nil
	default:
		return VerifyEmailResult{}, ErrInvalidToken
	}
}
