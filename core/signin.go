package core

import (
	"context"
	"errors"
)

// SignInInput is the body of POST /sign-in/email.
type SignInInput struct {
	Email, Password string
	RememberMe      bool
	CallbackURL     string // for the verification link sent to unverified users
	Meta            RequestMeta
	// TrustDevice is the client's trusted-device cookie, signature checked
	// (SecondFactor.AtSignIn).
	TrustDevice string
}

// SignInEmail checks the password and starts a session. An unknown email, a
// user without a credential account or password, and a wrong password all
// answer ErrInvalidEmailOrPassword after the same hashing work, and all count
// against the address's budgets of wrong passwords (checkFailures); once the
// client's budget is used up, its sign-ins for the address answer
// ErrTooManyRequests before any hashing, and before any lookup unless the
// client shows a known device, whose account must be looked up to tell. While
// the hasher is turning callers away, every sign-in answers ErrUnavailable,
// also before any lookup. Infrastructure failures are returned as they
// are, never as a 401.
func (a *Auth) SignInEmail(ctx context.Context, in SignInInput) (AuthResult, error) {
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return AuthResult{}, err
	}
	if err := a.checkPasswordMax(in.Password); err != nil {
		return AuthResult{}, err
	}
	if err := a.checkHasherFree(); err != nil {
		return AuthResult{}, err
	}
	var user *User
	known := in.Meta.Device.ID != ""
	if known {
		if user, err = a.userByEmail(ctx, email); err != nil {
			return AuthResult{}, err
		}
	}
	budget, err := a.checkFailures(ctx, email, userID(user), in.Meta)
	if err != nil {
		return AuthResult{}, err
	}
	if !known {
		if user, err = a.userByEmail(ctx, email); err != nil {
			return AuthResult{}, err
		}
	}
	if user == nil {
		return AuthResult{}, a.rejectSignIn(ctx, budget, in.Password)
	}
	_, hash, ok, err := a.credentialHash(ctx, user.ID())
	if err != nil {
		return AuthResult{}, err
	}
	if !ok {
		return AuthResult{}, a.rejectSignIn(ctx, budget, in.Password)
	}
	match, err := a.d.Hasher.Verify(ctx, hash, in.Password)
	if err != nil {
		return AuthResult{}, err
	}
	if !match {
		if err := a.countFailure(ctx, budget); err != nil {
			return AuthResult{}, err
		}
		return AuthResult{}, ErrInvalidEmailOrPassword
	}
	if a.p.RequireEmailVerification && !user.EmailVerified() {
		if err := a.sendVerificationMail(ctx, *user, in.CallbackURL); err != nil {
			return AuthResult{}, err
		}
		return AuthResult{}, ErrEmailNotVerified
	}

	var s Session
	var gate SignInGate
	err = a.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		// The hash was checked outside any transaction (scrypt is slow). If a
		// password change committed meanwhile, the password just checked is
		// no longer the account's, and the session must not be made: it would
		// survive the change's revocation of all sessions.
		_, current, ok, err := a.credentialHash(ctx, user.ID())
		if err != nil {
			return err
		}
		if !ok || current != hash {
			return ErrInvalidEmailOrPassword
		}
		if a.d.SecondFactor != nil {
			if gate, err = a.d.SecondFactor.AtSignIn(ctx, *user, in.TrustDevice); err != nil || gate.Challenge != nil {
				return err
			}
		}
		s, err = a.IssueSession(ctx, SessionGrant{UserID: user.ID(), DontRemember: !in.RememberMe, Meta: in.Meta})
		return err
	})
	if err != nil {
		return AuthResult{}, err
	}
	if gate.Challenge != nil {
		return AuthResult{User: *user, Gate: gate}, nil
	}
	return AuthResult{User: *user, Session: &s, Gate: gate}, nil
}

// rejectSignIn spends a decoy password check and counts a failure, then
// answers like a wrong password.
func (a *Auth) rejectSignIn(ctx context.Context, budget failureBudget, password string) error {
	if err := a.decoyVerify(ctx, password); err != nil {
		return err
	}
	if err := a.countFailure(ctx, budget); err != nil {
		return err
	}
	return ErrInvalidEmailOrPassword
}

// userByEmail returns the user of email, or nil when there is none.
func (a *Auth) userByEmail(ctx context.Context, email string) (*User, error) {
	u, err := a.d.Users.ByEmail(ctx, email)
	if errors.Is(err, ErrUserNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &u, nil
}

func userID(u *User) string {
	if u == nil {
		return ""
	}
	return u.ID()
}
