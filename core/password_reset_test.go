package core_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/core"
)

// requestReset asks for a reset of email and returns the mailed token.
func requestReset(t *testing.T, e *env, email, redirectTo string) string {
	t.Helper()
	if err := e.auth.RequestPasswordReset(ctx, email, redirectTo); err != nil {
		t.Fatal(err)
	}
	mails := e.mail.to(strings.ToLower(email))
	return strings.TrimPrefix(link(t, mails[len(mails)-1]).Path, "/api/auth/reset-password/")
}

func TestRequestPasswordReset(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("u@x.test", "12345678")
	if err := e.auth.RequestPasswordReset(ctx, "ghost@x.test", "/reset"); err != nil {
		t.Fatal(err)
	}
	if len(e.mail.all()) != 0 {
		t.Fatal("mail for an unknown address")
	}
	e.mustFail(e.auth.RequestPasswordReset(ctx, "nope", ""), core.ErrInvalidEmail)

	tok := requestReset(t, e, "U@x.test", "http://localhost:3000/reset?a=1&b=2")
	m := e.mail.to("u@x.test")[0]
	want := baseURL + "/reset-password/" + tok + "?callbackURL=http%3A%2F%2Flocalhost%3A3000%2Freset%3Fa%3D1%26b%3D2"
	if !strings.Contains(m.Text, "\n"+want+"\n") {
		t.Fatalf("mail %q lacks line %q", m.Text, want)
	}
	ver, err := e.store.Verifications().Latest(ctx, "reset-password:"+tok)
	if err != nil || ver.Value() != v.User.ID() || !ver.ExpiresAt().Equal(t0.Add(time.Hour)) {
		t.Fatalf("row = %+v %v", ver.Record(), err)
	}
	e.clock.Advance(time.Minute) // past the mail cooldown
	tok2 := requestReset(t, e, "u@x.test", "")
	if m := e.mail.to("u@x.test")[1]; !strings.Contains(m.Text, "\n"+baseURL+"/reset-password/"+tok2+"?callbackURL=\n") {
		t.Fatalf("no-redirect link: %q", m.Text)
	}
}

func TestRequestPasswordResetSurvivesMailFailure(t *testing.T) {
	e := newEnv(t, nil)
	e.user("u@x.test", "12345678")
	e.mail.fail.Store(true)
	for _, email := range []string{"u@x.test", "ghost@x.test"} {
		if err := e.auth.RequestPasswordReset(ctx, email, ""); err != nil {
			t.Fatalf("%s: %v", email, err)
		}
	}
}

func TestCheckResetToken(t *testing.T) {
	e := newEnv(t, nil)
	e.user("u@x.test", "12345678")
	tok := requestReset(t, e, "u@x.test", "")
	for _, c := range []struct {
		tok  string
		want bool
	}{{tok, true}, {tok, true}, {"", false}, {"unknown", false}} {
		if ok, err := e.auth.CheckResetToken(ctx, c.tok); err != nil || ok != c.want {
			t.Fatalf("%q: %v %v", c.tok, ok, err)
		}
	}
	e.clock.Advance(time.Hour + time.Millisecond)
	if ok, _ := e.auth.CheckResetToken(ctx, tok); ok {
		t.Fatal("expired token accepted")
	}
}

func TestResetPassword(t *testing.T) {
	for _, revoke := range []bool{true, false} {
		t.Run(fmt.Sprintf("revoke=%v", revoke), func(t *testing.T) {
			e := newEnv(t, func(p *core.Policy, _ *core.Deps) { p.RevokeSessionsOnPasswordReset = revoke })
			v := e.user("u@x.test", "old-password")
			tok := requestReset(t, e, "u@x.test", "")

			e.mustFail(e.auth.ResetPassword(ctx, tok, "short"), core.ErrPasswordTooShort)
			e.mustFail(e.auth.ResetPassword(ctx, tok, strings.Repeat("l", 129)), core.ErrPasswordTooLong)
			e.mustFail(e.auth.ResetPassword(ctx, "", "new-password"), core.ErrInvalidToken)
			if err := e.auth.ResetPassword(ctx, tok, "new-password"); err != nil {
				t.Fatalf("reset after rejected attempts: %v", err)
			}
			_, err := e.auth.SignInEmail(ctx, core.SignInInput{Email: "u@x.test", Password: "old-password"})
			e.mustFail(err, core.ErrInvalidEmailOrPassword)
			e.signIn("u@x.test", "new-password")
			_, err = e.auth.RequireSession(ctx, v.Session.Token())
			if revoke != (err != nil) {
				t.Fatalf("old session after reset: %v", err)
			}
			// Single use.
			err = e.auth.ResetPassword(ctx, tok, "third-password")
			e.mustFail(err, core.ErrInvalidToken)
			if kindOf(err) != core.KindInvalid {
				t.Fatalf("kind = %v", kindOf(err))
			}
		})
	}
}

func TestResetPasswordExpiredTokenIsPurged(t *testing.T) {
	e := newEnv(t, func(p *core.Policy, _ *core.Deps) { p.ResetTokenTTL = 2 * time.Second })
	e.user("u@x.test", "old-password")
	early := requestReset(t, e, "u@x.test", "")
	e.clock.Advance(time.Second)
	if err := e.auth.ResetPassword(ctx, early, "new-password"); err != nil {
		t.Fatal(err)
	}
	late := requestReset(t, e, "u@x.test", "")
	e.clock.Advance(3 * time.Second)
	ops := e.hasher.Ops.Load()
	e.mustFail(e.auth.ResetPassword(ctx, late, "late-password"), core.ErrInvalidToken)
	if e.hasher.Ops.Load() != ops {
		t.Fatal("an expired token cost a hash")
	}
	if _, err := e.store.Verifications().Latest(ctx, "reset-password:"+late); !errors.Is(err, core.ErrVerificationNotFound) {
		t.Fatal("expired row not purged")
	}
	e.signIn("u@x.test", "new-password")
}

func TestResetPasswordCreatesMissingCredentialAccount(t *testing.T) {
	e := newEnv(t, nil)
	u := createUserWithoutPassword(t, e, "social@x.test", "github", nil)
	tok := requestReset(t, e, "social@x.test", "")
	if err := e.auth.ResetPassword(ctx, tok, "fresh-password"); err != nil {
		t.Fatal(err)
	}
	acc, err := e.store.Accounts().Credential(ctx, u.ID())
	if err != nil || acc.AccountID() != u.ID() {
		t.Fatalf("credential = %+v %v", acc.Record(), err)
	}
	e.signIn("social@x.test", "fresh-password")
}

func TestResetPasswordForDeletedUser(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("u@x.test", "12345678")
	tok := requestReset(t, e, "u@x.test", "")
	if err := e.store.Users().Delete(ctx, v.User.ID()); err != nil {
		t.Fatal(err)
	}
	err := e.auth.ResetPassword(ctx, tok, "new-password")
	e.mustFail(err, core.ErrUserNotFound)
}

// TestResetPasswordIsAtomic: when revoking the sessions fails, the password
// is not changed and the token is not used up.
func TestResetPasswordIsAtomic(t *testing.T) {
	faulty := &sessionsWithFaults{}
	e := newEnv(t, func(_ *core.Policy, d *core.Deps) {
		faulty.SessionRepository = d.Sessions
		d.Sessions = faulty
	})
	v := e.user("u@x.test", "old-password")
	tok := requestReset(t, e, "u@x.test", "")
	faulty.deleteByUser = errInjected
	e.mustFail(e.auth.ResetPassword(ctx, tok, "new-password"), core.ErrUnavailable)
	faulty.deleteByUser = nil
	e.signIn("u@x.test", "old-password")
	e.view(v.Session.Token())
	if err := e.auth.ResetPassword(ctx, tok, "new-password"); err != nil {
		t.Fatalf("token lost in the failed attempt: %v", err)
	}
}

func TestConcurrentResetsOfOneToken(t *testing.T) {
	e := newEnv(t, nil)
	e.user("u@x.test", "old-password")
	const rounds, n = 20, 16
	for round := range rounds {
		// Each round starts clear of the reset mail's cooldown and of the
		// failed sign-ins the previous round's losing passwords used up.
		e.clock.Advance(time.Hour)
		tok := requestReset(t, e, "u@x.test", "")
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = e.auth.ResetPassword(ctx, tok, fmt.Sprintf("password-%d-%d", round, i))
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner == -1:
				winner = i
			case err == nil:
				t.Fatalf("round %d: submissions %d and %d both succeeded", round, winner, i)
			case !errors.Is(err, core.ErrInvalidToken):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if winner == -1 {
			t.Fatalf("round %d: no submission succeeded", round)
		}
		for i := range n {
			_, err := e.auth.SignInEmail(ctx, core.SignInInput{Email: "u@x.test", Password: fmt.Sprintf("password-%d-%d", round, i)})
			if (err == nil) != (i == winner) {
				t.Fatalf("round %d: password %d: %v (winner %d)", round, i, err, winner)
			}
		}
	}
}

// TestTokenPurposeBinding: a token minted for one purpose is worthless at
// every other.
func TestTokenPurposeBinding(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("u@x.test", "12345678")
	reset := requestReset(t, e, "u@x.test", "")
	del := requestDeletion(t, e, v, core.DeleteUserInput{})
	verifyMail := func() string {
		if err := e.auth.SendVerificationEmail(ctx, &v, "u@x.test", ""); err != nil {
			t.Fatal(err)
		}
		m := e.mail.to("u@x.test")
		return link(t, m[len(m)-1]).Query().Get("token")
	}()

	e.mustFail(e.auth.DeleteUserCallback(ctx, v, reset), core.ErrInvalidToken)
	e.mustFail(e.auth.DeleteUserCallback(ctx, v, verifyMail), core.ErrInvalidToken)
	e.mustFail(e.auth.ResetPassword(ctx, del, "new-password"), core.ErrInvalidToken)
	e.mustFail(e.auth.ResetPassword(ctx, verifyMail, "new-password"), core.ErrInvalidToken)
	if ok, _ := e.auth.CheckResetToken(ctx, del); ok {
		t.Fatal("delete token passed as a reset token")
	}
	for _, tok := range []string{reset, del} {
		_, err := e.auth.VerifyEmail(ctx, tok, "", nil)
		e.mustFail(err, core.ErrInvalidToken)
	}
	// Each still works for its own purpose.
	if err := e.auth.ResetPassword(ctx, reset, "new-password"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.auth.VerifyEmail(ctx, verifyMail, "", nil); err != nil {
		t.Fatal(err)
	}
	if err := e.auth.DeleteUserCallback(ctx, v, del); err != nil {
		t.Fatal(err)
	}
}

func TestMailFailureNeverChangesAnswers(t *testing.T) {
	e := newEnv(t, func(p *core.Policy, _ *core.Deps) { p.RequireEmailVerification = true })
	e.mail.fail.Store(true)
	r, err := e.auth.SignUpEmail(ctx, core.SignUpInput{Name: "N", Email: "n@x.test", Password: "12345678"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.auth.SignUpEmail(ctx, core.SignUpInput{Name: "N", Email: "n@x.test", Password: "12345678"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.auth.SignInEmail(ctx, core.SignInInput{Email: "n@x.test", Password: "12345678"})
	e.mustFail(err, core.ErrEmailNotVerified)
	// Mark verified through the store to reach the session-required flows.
	u := r.User
	u.MarkEmailVerified(t0)
	if err := e.store.Users().Update(ctx, u); err != nil {
		t.Fatal(err)
	}
	v := e.view(e.signIn("n@x.test", "12345678").Session.Token())
	if err := e.auth.ChangeEmail(ctx, v, "m@x.test", ""); err != nil {
		t.Fatal(err)
	}
	if res, err := e.auth.DeleteUser(ctx, v, core.DeleteUserInput{}); err != nil || res.Deleted {
		t.Fatal(res, err)
	}
	if len(e.mail.all()) < 4 {
		t.Fatalf("mailer called %d times", len(e.mail.all()))
	}
}
