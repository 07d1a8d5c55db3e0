package core_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/core"
)

func ptr[T any](v T) *T { return &v }

func TestUpdateUser(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("u@x.test", "12345678")

	_, err := e.auth.UpdateUser(ctx, v, core.UpdateUserInput{Email: true, Name: ptr("X")})
	e.mustFail(err, core.ErrEmailCannotBeUpdated)
	_, err = e.auth.UpdateUser(ctx, v, core.UpdateUserInput{})
	e.mustFail(err, core.ErrNoFieldsToUpdate)

	e.clock.Advance(time.Minute)
	u, err := e.auth.UpdateUser(ctx, v, core.UpdateUserInput{Name: ptr("Bob"), ImageSet: true, Image: ptr("https://i/b.png")})
	if err != nil {
		t.Fatal(err)
	}
	if u.Name() != "Bob" || *u.Image() != "https://i/b.png" || !u.UpdatedAt().Equal(e.clock.T) || u.Email() != "u@x.test" {
		t.Fatalf("user = %+v", u.Record())
	}
	u, err = e.auth.UpdateUser(ctx, v, core.UpdateUserInput{ImageSet: true})
	if err != nil || u.Image() != nil || u.Name() != "Bob" {
		t.Fatalf("clear image: %+v %v", u.Record(), err)
	}
	stored, _ := e.store.Users().ByID(ctx, v.User.ID())
	if stored.Name() != "Bob" || stored.Image() != nil {
		t.Fatalf("stored = %+v", stored.Record())
	}
}

func TestUpdateUserDoesNotUndoAVerification(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("u@x.test", "12345678") // loaded unverified
	verifyByMail(t, e, v)
	if _, err := e.auth.UpdateUser(ctx, v, core.UpdateUserInput{Name: ptr("B")}); err != nil {
		t.Fatal(err)
	}
	if u, _ := e.store.Users().ByID(ctx, v.User.ID()); !u.EmailVerified() {
		t.Fatal("a stale session view wrote emailVerified back to false")
	}
}

// verifyByMail sends v's user a verification mail and follows it.
func verifyByMail(t *testing.T, e *env, v core.SessionView) {
	t.Helper()
	if err := e.auth.SendVerificationEmail(ctx, &v, v.User.Email(), ""); err != nil {
		t.Fatal(err)
	}
	mails := e.mail.to(v.User.Email())
	if _, err := e.auth.VerifyEmail(ctx, link(t, mails[len(mails)-1]).Query().Get("token"), "", nil); err != nil {
		t.Fatal(err)
	}
}

func TestChangePasswordValidation(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("u@x.test", "old-password")
	cases := []struct {
		in   core.ChangePasswordInput
		want error
	}{
		{core.ChangePasswordInput{CurrentPassword: "old-password", NewPassword: "short"}, core.ErrPasswordTooShort},
		{core.ChangePasswordInput{CurrentPassword: "old-password", NewPassword: strings.Repeat("n", 129)}, core.ErrPasswordTooLong},
		{core.ChangePasswordInput{CurrentPassword: strings.Repeat("c", 129), NewPassword: "new-password"}, core.ErrPasswordTooLong},
		{core.ChangePasswordInput{CurrentPassword: "wrong-password", NewPassword: "new-password"}, core.ErrInvalidPassword},
	}
	for _, c := range cases {
		_, err := e.auth.ChangePassword(ctx, v, c.in)
		e.mustFail(err, c.want)
		if kindOf(err) != core.KindInvalid {
			t.Fatalf("%v: kind %v", err, kindOf(err))
		}
	}
	e.signIn("u@x.test", "old-password")

	social := createUserWithoutPassword(t, e, "s@x.test", "github", nil)
	s, _ := core.NewSession("sid"+strings.Repeat("s", 29), "stok"+strings.Repeat("s", 28), social.ID(), t0, time.Hour, "", "")
	_, err := e.auth.ChangePassword(ctx, core.SessionView{Session: s, User: social},
		core.ChangePasswordInput{CurrentPassword: "whatever1", NewPassword: "new-password"})
	e.mustFail(err, core.ErrCredentialAccountMissing)
}

func TestChangePasswordKeepsSessions(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("u@x.test", "old-password")
	other := e.signIn("u@x.test", "old-password").Session.Token()
	r, err := e.auth.ChangePassword(ctx, v, core.ChangePasswordInput{CurrentPassword: "old-password", NewPassword: "new-password"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Session != nil || r.User.ID() != v.User.ID() {
		t.Fatalf("result = %+v", r)
	}
	_, err = e.auth.SignInEmail(ctx, core.SignInInput{Email: "u@x.test", Password: "old-password"})
	e.mustFail(err, core.ErrInvalidEmailOrPassword)
	e.signIn("u@x.test", "new-password")
	e.view(other)
	e.view(v.Session.Token())
}

func TestChangePasswordRevokeOtherSessions(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("u@x.test", "old-password")
	b := e.signIn("u@x.test", "old-password").Session.Token()
	c := e.signIn("u@x.test", "old-password").Session.Token()
	r, err := e.auth.ChangePassword(ctx, v, core.ChangePasswordInput{CurrentPassword: "old-password", NewPassword: "new-password",
		RevokeOtherSessions: true, DontRemember: true, Meta: core.RequestMeta{IP: "192.0.2.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Session == nil || r.Session.Token() == v.Session.Token() || !r.Session.ExpiresAt().Equal(t0.Add(day)) || r.Session.IPAddress() != "192.0.2.1" {
		t.Fatalf("new session = %+v", r.Session)
	}
	for _, tok := range []string{v.Session.Token(), b, c} {
		if _, err := e.auth.RequireSession(ctx, tok); err == nil {
			t.Fatal("an old session survived")
		}
	}
	e.view(r.Session.Token())
	if e.countSessions(v.User.ID()) != 1 {
		t.Fatal("extra sessions")
	}
}

func TestChangePasswordIsAtomic(t *testing.T) {
	faulty := &sessionsWithFaults{}
	e := newEnv(t, func(_ *core.Policy, d *core.Deps) {
		faulty.SessionRepository = d.Sessions
		d.Sessions = faulty
	})
	v := e.user("u@x.test", "old-password")
	other := e.signIn("u@x.test", "old-password").Session.Token()
	faulty.create = errInjected
	_, err := e.auth.ChangePassword(ctx, v, core.ChangePasswordInput{CurrentPassword: "old-password", NewPassword: "new-password",
		RevokeOtherSessions: true})
	e.mustFail(err, core.ErrUnavailable)
	faulty.create = nil
	e.signIn("u@x.test", "old-password") // password unchanged
	e.view(other)                        // sessions not deleted
	e.view(v.Session.Token())
}

func TestChangeEmailValidation(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("u@x.test", "12345678")
	e.mustFail(e.auth.ChangeEmail(ctx, v, "U@X.test", ""), core.ErrEmailIsTheSame)
	e.mustFail(e.auth.ChangeEmail(ctx, v, "not an email", ""), core.ErrInvalidEmail)
	e.user("taken@x.test", "12345678")
	if err := e.auth.ChangeEmail(ctx, v, "Taken@x.test", ""); err != nil {
		t.Fatalf("taken address: %v", err)
	}
	if n := len(e.mail.all()); n != 0 {
		t.Fatalf("%d mails for a taken address", n)
	}
}

func TestChangeEmailOfVerifiedUserNeedsOldAddress(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("old@x.test", "12345678")
	verifyByMail(t, e, v)
	v = e.view(v.Session.Token())
	if err := e.auth.ChangeEmail(ctx, v, "New@x.test", "/settings"); err != nil {
		t.Fatal(err)
	}
	if len(e.mail.to("new@x.test")) != 0 {
		t.Fatal("new address mailed before the old one approved")
	}
	olds := e.mail.to("old@x.test")
	confirm := link(t, olds[len(olds)-1])
	if confirm.Query().Get("callbackURL") != "/settings" || !strings.Contains(olds[len(olds)-1].Text, "new@x.test") {
		t.Fatalf("confirmation mail = %+v", olds[len(olds)-1])
	}
	claims, _ := e.signer.Parse(confirm.Query().Get("token"), t0)
	if claims != (core.EmailClaims{Email: "old@x.test", UpdateTo: "new@x.test", RequestType: "change-email-confirmation", UserID: v.User.ID()}) {
		t.Fatalf("claims = %+v", claims)
	}

	// Approving from the old address mails the new one; nothing changes yet.
	r, err := e.auth.VerifyEmail(ctx, confirm.Query().Get("token"), "/settings", &v)
	if err != nil || r.EmailChanged || r.User != nil || !r.ConfirmationSent {
		t.Fatalf("confirm: %+v %v", r, err)
	}
	if u, _ := e.store.Users().ByID(ctx, v.User.ID()); u.Email() != "old@x.test" {
		t.Fatal("email changed before the new address was proven")
	}
	news := e.mail.to("new@x.test")
	if len(news) != 1 {
		t.Fatalf("mails to new = %d", len(news))
	}
	if cb := link(t, news[0]).Query().Get("callbackURL"); cb != "/settings" {
		t.Fatalf("the new address's link lost the callbackURL: %q", cb)
	}
	verify := link(t, news[0]).Query().Get("token")
	claims, _ = e.signer.Parse(verify, t0)
	if claims.RequestType != "change-email-verification" || claims.UpdateTo != "new@x.test" || claims.Email != "old@x.test" {
		t.Fatalf("claims = %+v", claims)
	}

	// A different signed-in user cannot apply it.
	stranger := e.user("stranger@x.test", "12345678")
	_, err = e.auth.VerifyEmail(ctx, verify, "", &stranger)
	e.mustFail(err, core.ErrInvalidUser)

	r, err = e.auth.VerifyEmail(ctx, verify, "", nil)
	if err != nil || !r.EmailChanged || r.User == nil || r.User.Email() != "new@x.test" || !r.User.EmailVerified() {
		t.Fatalf("apply: %+v %v", r, err)
	}
	if u, _ := e.store.Users().ByEmail(ctx, "new@x.test"); u.ID() != v.User.ID() {
		t.Fatal("change not stored")
	}
	// Replaying either token now finds no user at the old address.
	_, err = e.auth.VerifyEmail(ctx, verify, "", nil)
	e.mustFail(err, core.ErrUserNotFound)
	e.signIn("new@x.test", "12345678")
}

func TestChangeEmailOfUnverifiedUserMailsNewAddress(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("old@x.test", "12345678")
	if err := e.auth.ChangeEmail(ctx, v, "new@x.test", ""); err != nil {
		t.Fatal(err)
	}
	if len(e.mail.to("old@x.test")) != 0 {
		t.Fatal("old address mailed")
	}
	news := e.mail.to("new@x.test")
	if len(news) != 1 {
		t.Fatalf("mails = %+v", e.mail.all())
	}
	u := link(t, news[0])
	if u.Query().Get("callbackURL") != "/" {
		t.Fatalf("callbackURL = %q", u.Query().Get("callbackURL"))
	}
	r, err := e.auth.VerifyEmail(ctx, u.Query().Get("token"), "", &v)
	if err != nil || !r.EmailChanged || r.User.Email() != "new@x.test" {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestChangeEmailToAddressTakenMeanwhile(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("old@x.test", "12345678")
	if err := e.auth.ChangeEmail(ctx, v, "new@x.test", ""); err != nil {
		t.Fatal(err)
	}
	e.user("new@x.test", "12345678")
	_, err := e.auth.VerifyEmail(ctx, link(t, e.mail.to("new@x.test")[0]).Query().Get("token"), "", nil)
	e.mustFail(err, core.ErrUserExists)
	if u, _ := e.store.Users().ByID(ctx, v.User.ID()); u.Email() != "old@x.test" {
		t.Fatal("email changed onto a taken address")
	}
}

// TestChangePasswordLosesToAResetInBetween lands a reset between
// change-password's check of the current password and its write: the reset
// must stand, and the caller gets what better-auth answers once the reset is
// done (401 when the reset ended its session, else INVALID_PASSWORD).
func TestChangePasswordLosesToAResetInBetween(t *testing.T) {
	for _, revokeOnReset := range []bool{true, false} {
		for _, revokeOthers := range []bool{true, false} {
			t.Run(fmt.Sprintf("revokeOnReset=%v/revokeOtherSessions=%v", revokeOnReset, revokeOthers), func(t *testing.T) {
				e := newEnv(t, func(p *core.Policy, _ *core.Deps) { p.RevokeSessionsOnPasswordReset = revokeOnReset })
				v := e.user("u@x.test", "old-password")
				tok := requestReset(t, e, "u@x.test", "")
				var once sync.Once
				e.hasher.BeforeVerifyResult = func() {
					once.Do(func() {
						if err := e.auth.ResetPassword(ctx, tok, "reset-password"); err != nil {
							t.Errorf("reset: %v", err)
						}
					})
				}
				r, err := e.auth.ChangePassword(ctx, v, core.ChangePasswordInput{CurrentPassword: "old-password",
					NewPassword: "changed-password", RevokeOtherSessions: revokeOthers})
				e.hasher.BeforeVerifyResult = nil
				want := core.ErrInvalidPassword
				if revokeOnReset {
					want = core.ErrSessionNotFound
				}
				e.mustFail(err, want)
				if r.Session != nil {
					t.Fatal("the loser got a session")
				}
				wantSessions := 1
				if revokeOnReset {
					wantSessions = 0
				}
				if n := e.countSessions(v.User.ID()); n != wantSessions {
					t.Fatalf("%d sessions after the race, want %d", n, wantSessions)
				}
				for _, pw := range []string{"old-password", "changed-password"} {
					_, err := e.auth.SignInEmail(ctx, core.SignInInput{Email: "u@x.test", Password: pw})
					e.mustFail(err, core.ErrInvalidEmailOrPassword)
				}
				e.signIn("u@x.test", "reset-password")
			})
		}
	}
}

// TestChangePasswordAfterItsSessionIsRevoked: a session revoked while its
// change-password is being checked must neither change the password nor,
// with revokeOtherSessions, get a new session.
func TestChangePasswordAfterItsSessionIsRevoked(t *testing.T) {
	for _, revokeOthers := range []bool{true, false} {
		t.Run(fmt.Sprintf("revokeOtherSessions=%v", revokeOthers), func(t *testing.T) {
			e := newEnv(t, nil)
			v := e.user("u@x.test", "old-password")
			owner := e.view(e.signIn("u@x.test", "old-password").Session.Token())
			e.hasher.BeforeVerifyResult = func() {
				if _, err := e.auth.RevokeSession(ctx, owner, v.Session.Token()); err != nil {
					t.Errorf("revoke: %v", err)
				}
			}
			r, err := e.auth.ChangePassword(ctx, v, core.ChangePasswordInput{CurrentPassword: "old-password",
				NewPassword: "changed-password", RevokeOtherSessions: revokeOthers})
			e.hasher.BeforeVerifyResult = nil
			e.mustFail(err, core.ErrSessionNotFound)
			if r.Session != nil {
				t.Fatal("a revoked session got a new one")
			}
			e.signIn("u@x.test", "old-password")
			e.view(owner.Session.Token())
		})
	}
}
