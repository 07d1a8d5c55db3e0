package core_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/core"
)

// requestDeletion asks for the confirmation mail and returns its token.
func requestDeletion(t *testing.T, e *env, v core.SessionView, in core.DeleteUserInput) string {
	t.Helper()
	r, err := e.auth.DeleteUser(ctx, v, in)
	if err != nil || r.Deleted {
		t.Fatalf("delete-user: %+v %v", r, err)
	}
	mails := e.mail.to(v.User.Email())
	return link(t, mails[len(mails)-1]).Query().Get("token")
}

func TestDeleteUserDisabled(t *testing.T) {
	e := newEnv(t, func(p *core.Policy, _ *core.Deps) { p.DeleteUserEnabled = false })
	if e.auth.DeleteUserEnabled() || !newEnv(t, nil).auth.DeleteUserEnabled() {
		t.Fatal("DeleteUserEnabled does not report the policy")
	}
	v := e.user("u@x.test", "12345678")
	_, err := e.auth.DeleteUser(ctx, v, core.DeleteUserInput{})
	e.mustFail(err, core.ErrDeleteUserDisabled)
	e.mustFail(e.auth.DeleteUserCallback(ctx, v, "whatever"), core.ErrDeleteUserDisabled)
	if len(e.mail.all()) != 0 {
		t.Fatal("mail sent")
	}
}

func TestDeleteUserMailsConfirmation(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("u@x.test", "12345678")
	tok := requestDeletion(t, e, v, core.DeleteUserInput{CallbackURL: "/bye now"})
	m := e.mail.to("u@x.test")[0]
	want := baseURL + "/delete-user/callback?token=" + tok + "&callbackURL=%2Fbye%20now"
	if !strings.Contains(m.Text, "\n"+want+"\n") {
		t.Fatalf("mail text %q lacks line %q", m.Text, want)
	}
	ver, err := e.store.Verifications().Latest(ctx, "delete-account-"+tok)
	if err != nil || ver.Value() != v.User.ID() || !ver.ExpiresAt().Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("row = %+v, %v", ver.Record(), err)
	}
	if _, err := e.store.Users().ByID(ctx, v.User.ID()); err != nil {
		t.Fatal("user deleted before confirmation")
	}

	// The callback deletes the user with sessions and accounts; replay fails.
	other := e.signIn("u@x.test", "12345678").Session.Token()
	if err := e.auth.DeleteUserCallback(ctx, v, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Users().ByID(ctx, v.User.ID()); !errors.Is(err, core.ErrUserNotFound) {
		t.Fatal("user still there")
	}
	if _, err := e.auth.RequireSession(ctx, other); !errors.Is(err, core.ErrSessionNotFound) {
		t.Fatal("a session outlived its user")
	}
	if accs, _ := e.store.Accounts().ListByUser(ctx, v.User.ID()); len(accs) != 0 {
		t.Fatal("accounts left behind")
	}
	err = e.auth.DeleteUserCallback(ctx, v, tok)
	e.mustFail(err, core.ErrInvalidToken)
}

func TestDeleteUserPasswordChecks(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("u@x.test", "12345678")
	_, err := e.auth.DeleteUser(ctx, v, core.DeleteUserInput{Password: ptr("wrong-password")})
	e.mustFail(err, core.ErrInvalidPassword)
	_, err = e.auth.DeleteUser(ctx, v, core.DeleteUserInput{Password: ptr(strings.Repeat("p", 129))})
	e.mustFail(err, core.ErrPasswordTooLong)
	if len(e.mail.all()) != 0 {
		t.Fatal("mail sent after a failed password check")
	}
	// A right password still only mails a confirmation (sendDeleteAccountVerification is on).
	requestDeletion(t, e, v, core.DeleteUserInput{Password: ptr("12345678")})

	social := createUserWithoutPassword(t, e, "s@x.test", "github", nil)
	s, _ := core.NewSession(strings.Repeat("i", 32), strings.Repeat("t", 32), social.ID(), t0, time.Hour, "", "")
	_, err = e.auth.DeleteUser(ctx, core.SessionView{Session: s, User: social}, core.DeleteUserInput{Password: ptr("12345678")})
	e.mustFail(err, core.ErrCredentialAccountMissing)
}

func TestDeleteUserWithTokenInBody(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("u@x.test", "12345678")
	tok := requestDeletion(t, e, v, core.DeleteUserInput{})
	r, err := e.auth.DeleteUser(ctx, v, core.DeleteUserInput{Token: &tok})
	if err != nil || !r.Deleted {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := e.store.Users().ByID(ctx, v.User.ID()); !errors.Is(err, core.ErrUserNotFound) {
		t.Fatal("user still there")
	}
}

func TestDeleteTokenIsBoundToItsUserAndExpires(t *testing.T) {
	e := newEnv(t, nil)
	owner := e.user("owner@x.test", "12345678")
	attacker := e.user("attacker@x.test", "12345678")
	tok := requestDeletion(t, e, owner, core.DeleteUserInput{})

	e.mustFail(e.auth.DeleteUserCallback(ctx, attacker, tok), core.ErrInvalidToken)
	if _, err := e.store.Users().ByID(ctx, attacker.User.ID()); err != nil {
		t.Fatal("attacker deleted by a foreign token")
	}
	// The failed attempt did not burn the owner's token.
	if _, err := e.store.Verifications().Latest(ctx, "delete-account-"+tok); err != nil {
		t.Fatal("foreign attempt consumed the token")
	}
	e.clock.Advance(24*time.Hour + time.Millisecond)
	e.mustFail(e.auth.DeleteUserCallback(ctx, owner, tok), core.ErrInvalidToken)
	if _, err := e.store.Users().ByID(ctx, owner.User.ID()); err != nil {
		t.Fatal("expired token deleted the user")
	}
	e.mustFail(e.auth.DeleteUserCallback(ctx, owner, ""), core.ErrInvalidToken)
}

// TestDeleteUserAtOnce is better-auth without sendDeleteAccountVerification:
// no mail, the user goes at once after a right password, or without one
// while the session is fresh (freshAge 0 skips the check), else
// SESSION_EXPIRED.
func TestDeleteUserAtOnce(t *testing.T) {
	atOnce := func(p *core.Policy, _ *core.Deps) { p.DeleteUserAtOnce = true }
	gone := func(e *env, v core.SessionView) bool {
		t.Helper()
		_, err := e.store.Users().ByID(ctx, v.User.ID())
		if err != nil && !errors.Is(err, core.ErrUserNotFound) {
			t.Fatal(err)
		}
		return err != nil
	}
	deleted := func(e *env, v core.SessionView, in core.DeleteUserInput) {
		t.Helper()
		r, err := e.auth.DeleteUser(ctx, v, in)
		if err != nil || !r.Deleted || !gone(e, v) || e.countSessions(v.User.ID()) != 0 {
			t.Fatalf("delete-user: %+v %v, gone %v", r, err, gone(e, v))
		}
		if len(e.mail.all()) != 0 {
			t.Fatal("a confirmation was mailed")
		}
	}

	t.Run("password", func(t *testing.T) {
		e := newEnv(t, atOnce)
		v := e.user("u@x.test", "12345678")
		e.clock.Advance(e.policy.SessionFreshAge) // a password needs no fresh session
		_, err := e.auth.DeleteUser(ctx, v, core.DeleteUserInput{Password: ptr("wrong-password")})
		e.mustFail(err, core.ErrInvalidPassword)
		if gone(e, v) {
			t.Fatal("deleted after a wrong password")
		}
		deleted(e, v, core.DeleteUserInput{Password: ptr("12345678")})
	})
	t.Run("fresh session", func(t *testing.T) {
		e := newEnv(t, atOnce)
		v := e.user("u@x.test", "12345678")
		e.clock.Advance(e.policy.SessionFreshAge - time.Millisecond)
		deleted(e, v, core.DeleteUserInput{Password: ptr("")})
	})
	t.Run("stale session", func(t *testing.T) {
		e := newEnv(t, atOnce)
		v := e.user("u@x.test", "12345678")
		e.clock.Advance(e.policy.SessionFreshAge)
		_, err := e.auth.DeleteUser(ctx, v, core.DeleteUserInput{})
		e.mustFail(err, core.ErrSessionExpired)
		if kindOf(err) != core.KindInvalid || gone(e, v) {
			t.Fatalf("kind %v, deleted %v", kindOf(err), gone(e, v))
		}
	})
	t.Run("freshAge 0", func(t *testing.T) {
		e := newEnv(t, func(p *core.Policy, d *core.Deps) { atOnce(p, d); p.SessionFreshAge = 0 })
		v := e.user("u@x.test", "12345678")
		e.clock.Advance(30 * 24 * time.Hour)
		deleted(e, v, core.DeleteUserInput{})
	})
	t.Run("deleted meanwhile", func(t *testing.T) {
		e := newEnv(t, atOnce)
		v := e.user("u@x.test", "12345678")
		if err := e.store.Users().Delete(ctx, v.User.ID()); err != nil {
			t.Fatal(err)
		}
		_, err := e.auth.DeleteUser(ctx, v, core.DeleteUserInput{})
		e.mustFail(err, core.ErrSessionNotFound)
	})
}
