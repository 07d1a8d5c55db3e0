package core

import (
	"context"
	"errors"
)

// SignUpInput is the body of POST /sign-up/email.
type SignUpInput struct {
	Name, Email, Password string
	Image                 *string
	RememberMe            bool
	CallbackURL           string // for the verification link only
	Meta                  RequestMeta
}

// SignUpEmail creates a user with a credential account and, unless email
// verification is required, a session. The three rows are written in one
// transaction, so a failure leaves no half-created user.
//
// A taken email is ErrUserExists (422), except when RequireEmailVerification
// is on: then the answer is a synthetic user without a session, shaped and
// timed like a real sign-up, and the owner of the address gets a notice mail.
func (a *Auth) SignUpEmail(ctx context.Context, in SignUpInput) (AuthResult, error) {
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return AuthResult{}, err
	}
	if err := a.checkNewPassword(in.Password); err != nil {
		return AuthResult{}, err
	}
	if err := a.checkHasherFree(); err != nil {
		return AuthResult{}, err
	}
	_, err = a.d.Users.ByEmail(ctx, email)
	switch {
	case err == nil:
		if !a.p.RequireEmailVerification {
			return AuthResult{}, ErrUserExists
		}
		// Hash anyway: the fresh-user path hashes, and the two must cost the same.
		if _, err := a.d.Hasher.Hash(ctx, in.Password); err != nil {
			return AuthResult{}, err
		}
		return a.duplicateSignUp(ctx, email, in)
	case !errors.Is(err, ErrUserNotFound):
		return AuthResult{}, err
	}

	hash, err := a.d.Hasher.Hash(ctx, in.Password)
	if err != nil {
		return AuthResult{}, err
	}
	userID, err := a.newID()
	if err != nil {
		return AuthResult{}, err
	}
	now := a.now()
	user, err := NewUser(userID, in.Name, email, in.Image, now)
	if err != nil {
		return AuthResult{}, err
	}
	accountID, err := a.newID()
	if err != nil {
		return AuthResult{}, err
	}
	account, err := NewCredentialAccount(accountID, userID, hash, now)
	if err != nil {
		return AuthResult{}, err
	}
	var session *Session
	err = a.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		if err := a.d.Users.Create(ctx, user); err != nil {
			return err
		}
		if err := a.d.Accounts.Create(ctx, account); err != nil {
			return err
		}
		if a.p.RequireEmailVerification {
			return nil
		}
		s, err := a.IssueSession(ctx, SessionGrant{UserID: userID, DontRemember: !in.RememberMe, Meta: in.Meta})
		session = &s
		return err
	})
	if errors.Is(err, ErrUserExists) {
		// Lost the race against a concurrent sign-up for the same address.
		if !a.p.RequireEmailVerification {
			return AuthResult{}, ErrUserExists
		}
		return a.duplicateSignUp(ctx, email, in)
	}
	if err != nil {
		return AuthResult{}, err
	}

	if a.p.RequireEmailVerification {
		// Mail only once the user is committed, so no link points at a
		// rolled-back row. A failure here must not fail a sign-up that has
		// happened: the user can ask for another link.
		_ = a.sendVerificationMail(ctx, user, in.CallbackURL)
	}
	return AuthResult{User: user, Session: session}, nil
}

// duplicateSignUp answers a sign-up for a taken address under enumeration
// protection with a user that was never stored: fresh id, the submitted name
// and image, unverified, timestamps of now (better-auth's
// buildGenericDuplicateResponse).
func (a *Auth) duplicateSignUp(ctx context.Context, email string, in SignUpInput) (AuthResult, error) {
	id, err := a.newID()
	if err != nil {
		return AuthResult{}, err
	}
	synthetic, err := NewUser(id, in.Name, email, in.Image, a.now())
	if err != nil {
		return AuthResult{}, err
	}
	if err := a.sendExistingAccountNotice(ctx, email); err != nil {
		return AuthResult{}, err
	}
	return AuthResult{User: synthetic}, nil
}
