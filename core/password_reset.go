package core

import (
	"context"
	"errors"
)

// RequestPasswordReset mails a reset link to the account of email, if there
// is one and it was not mailed one within MailCooldown. The result is nil
// either way, so the call cannot probe for accounts; an invalid address is
// ErrInvalidEmail.
func (a *Auth) RequestPasswordReset(ctx context.Context, email, redirectTo string) error {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	user, lookupErr := a.d.Users.ByEmail(ctx, norm)
	if lookupErr != nil && !errors.Is(lookupErr, ErrUserNotFound) {
		return lookupErr
	}
	token, err := a.randomString(resetTokenLength, alphanumeric)
	if err != nil {
		return err
	}
	send := false
	if lookupErr == nil {
		if send, err = a.mailAllowed(ctx, keyMailReset+user.ID()); err != nil {
			return err
		}
	} else {
		// A look at a key no account has stands in for the cooldown's
		// round trip, which an unknown address would otherwise be spared.
		if _, err := a.d.Limiter.Peek(ctx, keyMailReset, a.p.MailCooldown, 1, a.now()); err != nil {
			return err
		}
	}
	if !send {
		// Unknown address, or one mailed a link moments ago: a lookup
		// stands in for the insert of the real branch (better-auth does the
		// same for unknown addresses), to keep the timings close.
		_, err := a.d.Verifications.Latest(ctx, ResetPasswordPrefix+token)
		if err != nil && !errors.Is(err, ErrVerificationNotFound) {
			return err
		}
		return nil
	}
	if err := a.storeVerification(ctx, ResetPasswordPrefix+token, user.ID(), a.p.ResetTokenTTL); err != nil {
		return err
	}
	a.sendResetPasswordMail(ctx, user, token, redirectTo)
	return nil
}

// CheckResetToken reports whether token is a live reset token, without
// consuming it (GET /reset-password/:token).
func (a *Auth) CheckResetToken(ctx context.Context, token string) (bool, error) {
	if token == "" {
		return false, nil
	}
	ver, err := a.d.Verifications.Latest(ctx, ResetPasswordPrefix+token)
	if errors.Is(err, ErrVerificationNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !ver.Expired(a.now()), nil
}

// ResetPassword redeems a reset token: it sets the new password (creating the
// credential account if the user had none) and, with
// RevokeSessionsOnPasswordReset, ends all the user's sessions. Consuming the
// token, writing the password and revoking commit together, so of any number
// of concurrent submissions of one token exactly one succeeds and there is no
// state with the password changed but old sessions alive. The account's
// failed-sign-in count is cleared. No session is created.
func (a *Auth) ResetPassword(ctx context.Context, token, newPassword string) error {
	if token == "" {
		return ErrInvalidToken
	}
	if err := a.checkNewPassword(newPassword); err != nil {
		return err
	}
	identifier := ResetPasswordPrefix + token
	// A cheap look first, so that a bad token costs no scrypt run.
	ver, err := a.d.Verifications.Latest(ctx, identifier)
	if errors.Is(err, ErrVerificationNotFound) {
		return ErrInvalidToken
	}
	if err != nil {
		return err
	}
	if ver.Expired(a.now()) {
		// Purge it: an expired token is dead, and its row only leaks.
		if _, err := a.d.Verifications.Consume(ctx, identifier); err != nil && !errors.Is(err, ErrVerificationNotFound) {
			return err
		}
		return ErrInvalidToken
	}
	// Hash outside the transaction: scrypt must not hold a connection.
	hash, err := a.d.Hasher.Hash(ctx, newPassword)
	if err != nil {
		return err
	}
	newAccountID, err := a.newID()
	if err != nil {
		return err
	}
	return a.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		ver, err := a.d.Verifications.Consume(ctx, identifier)
		if errors.Is(err, ErrVerificationNotFound) {
			return ErrInvalidToken // another submission won
		}
		if err != nil {
			return err
		}
		now := a.now()
		if ver.Expired(now) {
			return ErrInvalidToken
		}
		userID := ver.Value()
		user, err := a.d.Users.ByID(ctx, userID)
		if err != nil {
			if errors.Is(err, ErrUserNotFound) {
				return ErrUserNotFound
			}
			return err
		}
		account, err := a.d.Accounts.Credential(ctx, userID)
		switch {
		case errors.Is(err, ErrAccountNotFound):
			account, err = NewCredentialAccount(newAccountID, userID, hash, now)
			if err != nil {
				return err
			}
			err = a.d.Accounts.Create(ctx, account)
		case err == nil:
			// The row is held since Credential read it, so the
			// compare-and-set cannot lose; it is the only way to write.
			old, _ := account.PasswordHash()
			err = a.d.Accounts.SetPassword(ctx, account.ID(), old, hash, now)
		}
		if err != nil {
			return err
		}
		if a.p.RevokeSessionsOnPasswordReset {
			if _, err := a.d.Sessions.DeleteByUser(ctx, userID, ""); err != nil {
				return err
			}
		}
		// The owner has proved control of the mailbox: wrong passwords an
		// attacker spent on the account, from any network, must not keep
		// them out.
		return a.liftFailures(ctx, user.Email())
	})
}
