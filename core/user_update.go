package core

import (
	"context"
	"errors"
)

// UpdateUserInput holds the fields /update-user accepts. Image is applied when
// ImageSet (nil clears it); Email reports that the caller asked to change the
// address (better-auth: any truthy email), which is refused, since the
// address changes through ChangeEmail.
type UpdateUserInput struct {
	Name     *string
	ImageSet bool
	Image    *string
	Email    bool
}

// UpdateUser changes the caller's name and/or image and returns the user as
// stored. Email is ErrEmailCannotBeUpdated; nothing to change is
// ErrNoFieldsToUpdate.
func (a *Auth) UpdateUser(ctx context.Context, v SessionView, in UpdateUserInput) (User, error) {
	if in.Email {
		return User{}, ErrEmailCannotBeUpdated
	}
	if in.Name == nil && !in.ImageSet {
		return User{}, ErrNoFieldsToUpdate
	}
	// Re-read inside the transaction, which holds the row: a verification
	// or email change committing meanwhile is neither overwritten nor lost.
	var u User
	err := a.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		var err error
		if u, err = a.d.Users.ByID(ctx, v.User.ID()); err != nil {
			return err
		}
		now := a.now()
		if in.Name != nil {
			u.Rename(*in.Name, now)
		}
		if in.ImageSet {
			u.SetImage(in.Image, now)
		}
		return a.d.Users.Update(ctx, u)
	})
	if err != nil {
		return User{}, err
	}
	return u, nil
}

// ChangePasswordInput is the body of /change-password; DontRemember carries
// the dont_remember cookie, which sets the lifetime of the replacement session.
type ChangePasswordInput struct {
	CurrentPassword, NewPassword string
	RevokeOtherSessions          bool
	DontRemember                 bool
	Meta                         RequestMeta
}

// ChangePassword replaces the caller's password after checking the current
// one. With RevokeOtherSessions every session of the user, the current one
// included, is deleted and a new one is returned, in the same transaction as
// the password update.
//
// The check and the hashing run outside the transaction (scrypt must not hold
// a connection), so the write is a compare-and-set against the hash that was
// checked, and the caller's session must still exist when it commits: a
// reset, or a revocation of this session, landing in between wins. Losing
// answers what better-auth would answer to this request arriving after the
// other change: ErrSessionNotFound when the session is gone, which its
// session middleware says first, else ErrInvalidPassword, the current
// password no longer being the account's.
func (a *Auth) ChangePassword(ctx context.Context, v SessionView, in ChangePasswordInput) (AuthResult, error) {
	if err := a.checkNewPassword(in.NewPassword); err != nil {
		return AuthResult{}, err
	}
	if err := a.checkPasswordMax(in.CurrentPassword); err != nil {
		return AuthResult{}, err
	}
	budget, err := a.checkFailures(ctx, v.User.Email(), v.User.ID(), in.Meta)
	if err != nil {
		return AuthResult{}, err
	}
	account, hash, ok, err := a.credentialHash(ctx, v.User.ID())
	if err != nil {
		return AuthResult{}, err
	}
	if !ok {
		return AuthResult{}, ErrCredentialAccountMissing
	}
	match, err := a.d.Hasher.Verify(ctx, hash, in.CurrentPassword)
	if err != nil {
		return AuthResult{}, err
	}
	if !match {
		if err := a.countFailure(ctx, budget); err != nil {
			return AuthResult{}, err
		}
		return AuthResult{}, ErrInvalidPassword
	}
	newHash, err := a.d.Hasher.Hash(ctx, in.NewPassword)
	if err != nil {
		return AuthResult{}, err
	}

	var session *Session
	err = a.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		// The account row first, as ResetPassword takes it, so that the two
		// queue on it rather than deadlock on sessions.
		switch err := a.d.Accounts.SetPassword(ctx, account.ID(), hash, newHash, a.now()); {
		case errors.Is(err, ErrPasswordChanged):
			if _, _, err := a.d.Sessions.ByToken(ctx, v.Session.Token()); err != nil {
				return err // ErrSessionNotFound when the session is gone
			}
			return ErrInvalidPassword
		case err != nil:
			return err
		}
		if !in.RevokeOtherSessions {
			// Writing the session back both proves it still exists and
			// holds it to commit, so a revocation cannot slip in between.
			return a.d.Sessions.Update(ctx, v.Session)
		}
		existed, err := a.d.Sessions.DeleteByToken(ctx, v.Session.Token())
		if err != nil {
			return err
		}
		if !existed {
			return ErrSessionNotFound
		}
		if _, err := a.d.Sessions.DeleteByUser(ctx, v.User.ID(), ""); err != nil {
			return err
		}
		s, err := a.IssueSession(ctx, SessionGrant{UserID: v.User.ID(), DontRemember: in.DontRemember, Meta: in.Meta})
		session = &s
		return err
	})
	if errors.Is(err, ErrAccountNotFound) {
		return AuthResult{}, ErrCredentialAccountMissing.With(err)
	}
	if err != nil {
		return AuthResult{}, err
	}
	return AuthResult{User: v.User, Session: session}, nil
}

// VerifyPassword checks the caller's password and changes nothing (POST
// /verify-password). As in better-auth's validatePassword, a user without a
// credential password gets ErrInvalidPassword, not
// ErrCredentialAccountMissing, and an over-long password ErrPasswordTooLong
// before any hashing. Wrong passwords count as failed sign-ins.
func (a *Auth) VerifyPassword(ctx context.Context, v SessionView, password string, meta RequestMeta) error {
	err := a.checkPassword(ctx, v.User, password, meta)
	if errors.Is(err, ErrCredentialAccountMissing) {
		return ErrInvalidPassword
	}
	return err
}

// ChangeEmail starts a change of the caller's address to newEmail; the change
// itself happens in VerifyEmail. A verified user must first approve from the
// current address (change-email-confirmation); an unverified one gets the
// link at the new address directly (change-email-verification). When
// newEmail already has an account nothing is sent and the answer is the same,
// so the call cannot probe for accounts; nor does the answer change when the
// mail is held back by MailCooldown.
func (a *Auth) ChangeEmail(ctx context.Context, v SessionView, newEmail, callbackURL string) error {
	email, err := NormalizeEmail(newEmail)
	if err != nil {
		return err
	}
	if email == v.User.Email() {
		return ErrEmailIsTheSame
	}
	_, err = a.d.Users.ByEmail(ctx, email)
	switch {
	case err == nil:
		// Sign a token anyway, as better-auth does, so both branches do the
		// same work.
		_, err := a.signEmailToken(EmailClaims{Email: v.User.Email(), UpdateTo: email, UserID: v.User.ID()})
		return err
	case !errors.Is(err, ErrUserNotFound):
		return err
	}
	if v.User.EmailVerified() {
		return a.sendChangeEmailConfirmation(ctx, v.User, email, callbackURL)
	}
	return a.sendChangeEmailVerification(ctx, v.User, email, callbackURL)
}
