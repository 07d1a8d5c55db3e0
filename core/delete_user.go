package core

import (
	"context"
	"errors"
	"time"
)

// DeleteUserInput is the body of POST /delete-user.
type DeleteUserInput struct {
	Password    *string
	Token       *string
	CallbackURL string
	Meta        RequestMeta
}

// DeleteUserResult: Deleted is false when a confirmation link was mailed
// instead ("Verification email sent").
type DeleteUserResult struct{ Deleted bool }

// DeleteUserEnabled reports Policy.DeleteUserEnabled, which the HTTP adapter
// checks before anything else on GET /delete-user/callback, as better-auth
// does: a disabled route answers 404 without reading the session.
func (a *Auth) DeleteUserEnabled() bool { return a.p.DeleteUserEnabled }

// DeleteUser follows better-auth's /delete-user: a password, when given,
// must be right; a token, when given, deletes the user at once. Otherwise,
// a one-day confirmation link is mailed (at most one per MailCooldown) and
// nothing is deleted yet, as with sendDeleteAccountVerification configured;
// with DeleteUserAtOnce the user is deleted at once, provided a
// password was given or the session is fresh (signed in less than
// SessionFreshAge ago, else ErrSessionExpired), whether or not the user has a
// password, as in better-auth.
func (a *Auth) DeleteUser(ctx context.Context, v SessionView, in DeleteUserInput) (DeleteUserResult, error) {
	if !a.p.DeleteUserEnabled {
		return DeleteUserResult{}, ErrDeleteUserDisabled
	}
	hasPassword := in.Password != nil && *in.Password != ""
	if hasPassword {
		if err := a.checkPassword(ctx, v.User, *in.Password, in.Meta); err != nil {
			return DeleteUserResult{}, err
		}
	}
	if in.Token != nil && *in.Token != "" {
		if err := a.DeleteUserCallback(ctx, v, *in.Token); err != nil {
			return DeleteUserResult{}, err
		}
		return DeleteUserResult{Deleted: true}, nil
	}
	if a.p.DeleteUserAtOnce {
		if !hasPassword && !v.Session.Fresh(a.now(), a.p.SessionFreshAge) {
			return DeleteUserResult{}, ErrSessionExpired
		}
		err := a.d.Users.Delete(ctx, v.User.ID())
		if errors.Is(err, ErrUserNotFound) {
			// Deleted meanwhile, with this session: a request arriving now
			// would find no session.
			return DeleteUserResult{}, ErrSessionNotFound
		}
		if err != nil {
			return DeleteUserResult{}, err
		}
		return DeleteUserResult{Deleted: true}, nil
	}

	send, err := a.mailAllowed(ctx, keyMailDelete+v.User.ID())
	if err != nil || !send {
		// Within the cooldown the answer is the same: the link mailed
		// moments ago still works.
		return DeleteUserResult{}, err
	}
	token, err := a.randomString(deleteTokenLength, digitsLower)
	if err != nil {
		return DeleteUserResult{}, err
	}
	if err := a.storeVerification(ctx, DeleteAccountPrefix+token, v.User.ID(), a.p.DeleteTokenTTL); err != nil {
		return DeleteUserResult{}, err
	}
	a.sendDeleteAccountMail(ctx, v.User, token, in.CallbackURL)
	return DeleteUserResult{Deleted: false}, nil
}

// DeleteUserCallback redeems a deletion token for the signed-in user and
// deletes them with their sessions and accounts. The token is consumed in the
// same transaction as the deletion; a token that is unknown, expired or minted
// for another user is ErrInvalidToken, and a foreign token is left
// untouched.
func (a *Auth) DeleteUserCallback(ctx context.Context, v SessionView, token string) error {
	if !a.p.DeleteUserEnabled {
		return ErrDeleteUserDisabled
	}
	if token == "" {
		return ErrInvalidToken
	}
	return a.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		ver, err := a.d.Verifications.Consume(ctx, DeleteAccountPrefix+token)
		if errors.Is(err, ErrVerificationNotFound) {
			return ErrInvalidToken
		}
		if err != nil {
			return err
		}
		if ver.Expired(a.now()) || ver.Value() != v.User.ID() {
			return ErrInvalidToken
		}
		return a.d.Users.Delete(ctx, v.User.ID())
	})
}

// checkPassword verifies pw against u's credential account:
// ErrCredentialAccountMissing without one, ErrInvalidPassword when wrong. A
// session is no licence to guess: wrong passwords count against the
// account's budgets as failed sign-ins do.
func (a *Auth) checkPassword(ctx context.Context, u User, pw string, meta RequestMeta) error {
	if err := a.checkPasswordMax(pw); err != nil {
		return err
	}
	budget, err := a.checkFailures(ctx, u.Email(), u.ID(), meta)
	if err != nil {
		return err
	}
	_, hash, ok, err := a.credentialHash(ctx, u.ID())
	if err != nil {
		return err
	}
	if !ok {
		return ErrCredentialAccountMissing
	}
	match, err := a.d.Hasher.Verify(ctx, hash, pw)
	if err != nil {
		return err
	}
	if !match {
		if err := a.countFailure(ctx, budget); err != nil {
			return err
		}
		return ErrInvalidPassword
	}
	return nil
}

// storeVerification records a one-time secret under identifier.
func (a *Auth) storeVerification(ctx context.Context, identifier, value string, ttl time.Duration) error {
	id, err := a.newID()
	if err != nil {
		return err
	}
	ver, err := NewVerification(id, identifier, value, a.now(), ttl)
	if err != nil {
		return err
	}
	return a.d.Verifications.Create(ctx, ver)
}
