package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/core"
)

func TestSignInSucceedsCaseInsensitively(t *testing.T) {
	e := newEnv(t, nil)
	up := e.signUp("User@Example.COM", "pass word 😀 é")
	r, err := e.auth.SignInEmail(ctx, core.SignInInput{Email: "user@example.com", Password: "pass word 😀 é", RememberMe: true,
		Meta: core.RequestMeta{IP: "198.51.100.2", UserAgent: "ua"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.User.ID() != up.User.ID() || r.Session == nil || r.Session.Token() == up.Session.Token() {
		t.Fatalf("result = %+v", r)
	}
	if !r.Session.ExpiresAt().Equal(t0.Add(7*24*time.Hour)) || r.Session.IPAddress() != "198.51.100.2" {
		t.Fatalf("session = %+v", r.Session.Record())
	}
	short, err := e.auth.SignInEmail(ctx, core.SignInInput{Email: "user@example.com", Password: "pass word 😀 é", RememberMe: false})
	if err != nil || !short.Session.ExpiresAt().Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("rememberMe=false: %v %v", short.Session, err)
	}
}

func TestSignInNoTruncationOrModification(t *testing.T) {
	e := newEnv(t, nil)
	pw := strings.Repeat("pässwörd 😀 ", 8)
	e.signUp("u@x.test", pw)
	runes := []rune(pw)
	for _, bad := range []string{pw[:72], string(runes[:len(runes)-1]), pw + " ", strings.ToUpper(pw)} {
		_, err := e.auth.SignInEmail(ctx, core.SignInInput{Email: "u@x.test", Password: bad})
		e.mustFail(err, core.ErrInvalidEmailOrPassword)
	}
	e.signIn("u@x.test", pw)
}

func TestSignInValidation(t *testing.T) {
	e := newEnv(t, nil)
	e.signUp("u@x.test", "12345678")
	_, err := e.auth.SignInEmail(ctx, core.SignInInput{Email: "not-an-email", Password: "12345678"})
	e.mustFail(err, core.ErrInvalidEmail)
	ops := e.hasher.Ops.Load()
	_, err = e.auth.SignInEmail(ctx, core.SignInInput{Email: "u@x.test", Password: strings.Repeat("x", 129)})
	e.mustFail(err, core.ErrPasswordTooLong)
	if e.hasher.Ops.Load() != ops {
		t.Fatal("an over-long password was hashed")
	}
	// No minimum on sign-in: a short wrong password is just wrong.
	_, err = e.auth.SignInEmail(ctx, core.SignInInput{Email: "u@x.test", Password: "x"})
	e.mustFail(err, core.ErrInvalidEmailOrPassword)
}

// TestSignInEnumeration: an unknown email, a user without a credential
// account, one whose credential has no password, and a wrong password must
// be indistinguishable: the same error value and the same hashing work.
func TestSignInEnumeration(t *testing.T) {
	for _, decoy := range []bool{true, false} {
		name := "decoy hash"
		if !decoy {
			name = "no decoy hash"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, func(_ *core.Policy, d *core.Deps) {
				if !decoy {
					d.DecoyHash = ""
				}
			})
			e.signUp("known@x.test", "right-password")
			createUserWithoutPassword(t, e, "social@x.test", "github", nil)
			createUserWithoutPassword(t, e, "nullpw@x.test", "credential", nil)

			var first error
			for _, email := range []string{"unknown@x.test", "social@x.test", "nullpw@x.test", "known@x.test"} {
				before := e.hasher.Ops.Load()
				r, err := e.auth.SignInEmail(ctx, core.SignInInput{Email: email, Password: "wrong-password"})
				if r.Session != nil {
					t.Fatalf("%s: session returned", email)
				}
				e.mustFail(err, core.ErrInvalidEmailOrPassword)
				if ops := e.hasher.Ops.Load() - before; ops != 1 {
					t.Fatalf("%s: %d hash operations, want 1", email, ops)
				}
				if first == nil {
					first = err
				}
				var a, b *core.Error
				errors.As(first, &a)
				errors.As(err, &b)
				if *a != *b || err.Error() != first.Error() {
					t.Fatalf("%s: error %#v differs from %#v", email, b, a)
				}
				if kindOf(err) != core.KindUnauthenticated {
					t.Fatalf("kind = %v", kindOf(err))
				}
			}
			if n := len(e.mail.all()); n != 0 {
				t.Fatalf("%d mails sent", n)
			}
		})
	}
}

// createUserWithoutPassword stores a user whose only account has provider
// provider and the given password (nil for NULL).
func createUserWithoutPassword(t *testing.T, e *env, email, provider string, password *string) core.User {
	t.Helper()
	id := strings.Repeat(string(email[0]), 32)
	u, err := core.NewUser(id, "S", email, nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.Users().Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	accountID := id
	if provider == "credential" {
		accountID = u.ID()
	}
	acc := core.RehydrateAccount(core.AccountRecord{ID: "acc" + id[3:], UserID: u.ID(), AccountID: accountID,
		ProviderID: provider, Password: password, CreatedAt: t0, UpdatedAt: t0})
	if err := e.store.Accounts().Create(ctx, acc); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestSignInInfrastructureErrorsAreNot401(t *testing.T) {
	e := newEnv(t, func(_ *core.Policy, d *core.Deps) { d.Users = &usersDown{d.Users} })
	_, err := e.auth.SignInEmail(ctx, core.SignInInput{Email: "u@x.test", Password: "12345678"})
	e.mustFail(err, core.ErrUnavailable)
	if errors.Is(err, core.ErrInvalidEmailOrPassword) {
		t.Fatal("outage reported as bad credentials")
	}
}

func TestSignInMalformedStoredHashIsAnError(t *testing.T) {
	e := newEnv(t, nil)
	pw := "scrypt-salt:not-ours"
	createUserWithoutPassword(t, e, "m@x.test", "credential", &pw)
	_, err := e.auth.SignInEmail(ctx, core.SignInInput{Email: "m@x.test", Password: "12345678"})
	if err == nil || errors.Is(err, core.ErrInvalidEmailOrPassword) {
		t.Fatalf("malformed hash: got %v, want an internal error", err)
	}
}

type usersDown struct{ core.UserRepository }

func (usersDown) ByEmail(context.Context, string) (core.User, error) { return core.User{}, errInjected }

func TestSignInRequireVerification(t *testing.T) {
	e := newEnv(t, func(p *core.Policy, _ *core.Deps) { p.RequireEmailVerification = true })
	up, err := e.auth.SignUpEmail(ctx, core.SignUpInput{Name: "N", Email: "n@x.test", Password: "12345678"})
	if err != nil {
		t.Fatal(err)
	}
	sent := len(e.mail.all())
	// Past the cooldown of the sign-up's mail, so that only the password
	// decides whether a mail goes out.
	e.clock.Advance(time.Minute)
	// Wrong password: 401, not 403, and no mail.
	_, err = e.auth.SignInEmail(ctx, core.SignInInput{Email: "n@x.test", Password: "wrong-pass"})
	e.mustFail(err, core.ErrInvalidEmailOrPassword)
	if len(e.mail.all()) != sent {
		t.Fatal("mail sent on a wrong password")
	}
	_, err = e.auth.SignInEmail(ctx, core.SignInInput{Email: "n@x.test", Password: "12345678", CallbackURL: "/home"})
	e.mustFail(err, core.ErrEmailNotVerified)
	if kindOf(err) != core.KindForbidden {
		t.Fatalf("kind = %v", kindOf(err))
	}
	mails := e.mail.to("n@x.test")
	if len(mails) != sent+1 || link(t, mails[len(mails)-1]).Query().Get("callbackURL") != "/home" {
		t.Fatalf("mails = %+v", mails)
	}
	if e.countSessions(up.User.ID()) != 0 {
		t.Fatal("session created for an unverified user")
	}
	// After verification, sign-in works.
	if _, err := e.auth.VerifyEmail(ctx, link(t, mails[0]).Query().Get("token"), "", nil); err != nil {
		t.Fatal(err)
	}
	e.signIn("n@x.test", "12345678")
}

// TestSignInLosesToConcurrentPasswordChange: a sign-in whose (slow) password
// check overlaps a password change must not create a session afterwards,
// since the change revoked every session made with the old password.
func TestSignInLosesToConcurrentPasswordChange(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("u@x.test", "old-password")
	changed := false
	e.hasher.BeforeVerifyResult = func() {
		if changed {
			return
		}
		changed = true
		if _, err := e.auth.ChangePassword(ctx, v, core.ChangePasswordInput{CurrentPassword: "old-password",
			NewPassword: "new-password", RevokeOtherSessions: true}); err != nil {
			t.Errorf("change: %v", err)
		}
	}
	_, err := e.auth.SignInEmail(ctx, core.SignInInput{Email: "u@x.test", Password: "old-password"})
	e.mustFail(err, core.ErrInvalidEmailOrPassword)
	if !changed {
		t.Fatal("hook did not run")
	}
	if n := e.countSessions(v.User.ID()); n != 1 {
		t.Fatalf("%d sessions, want only the one made by the change", n)
	}
	e.hasher.BeforeVerifyResult = nil
	e.signIn("u@x.test", "new-password")
}
