package core_test

import (
	"testing"
	"time"

	"github.com/authd/authd/core"
)

func TestVerifyEmailPlain(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("u@x.test", "12345678")
	tok, err := e.signer.Sign(core.EmailClaims{Email: "u@x.test", UserID: v.User.ID()}, t0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	for range 2 { // reusable until it expires; the second call is a no-op
		r, err := e.auth.VerifyEmail(ctx, tok, "", nil)
		if err != nil || r.User != nil || r.EmailChanged {
			t.Fatalf("%+v %v", r, err)
		}
	}
	u, _ := e.store.Users().ByID(ctx, v.User.ID())
	if !u.EmailVerified() || !u.UpdatedAt().Equal(t0.Add(time.Minute)) {
		t.Fatalf("user = %+v", u.Record())
	}
}

func TestVerifyEmailRejections(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("u@x.test", "12345678")
	sign := func(c core.EmailClaims) string {
		tok, err := e.signer.Sign(c, t0, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := sign(core.EmailClaims{Email: "u@x.test", UserID: v.User.ID()})
	// One character well inside the signature, where all six bits count:
	// rewriting the last two could leave the decoded bytes unchanged (the
	// last character carries padding bits), and the test would then fail
	// about once in a thousand runs with a token that was never changed.
	tampered := []byte(good)
	if i := len(tampered) - 5; tampered[i] == 'A' {
		tampered[i] = 'B'
	} else {
		tampered[i] = 'A'
	}
	cases := map[string]struct {
		token string
		want  error
	}{
		"garbage":           {"not-a-jwt", core.ErrInvalidToken},
		"tampered":          {string(tampered), core.ErrInvalidToken},
		"unknown user":      {sign(core.EmailClaims{Email: "ghost@x.test"}), core.ErrUserNotFound},
		"userId mismatch":   {sign(core.EmailClaims{Email: "u@x.test", UserID: "someone-else"}), core.ErrInvalidToken},
		"type, no target":   {sign(core.EmailClaims{Email: "u@x.test", RequestType: "change-email-verification", UserID: v.User.ID()}), core.ErrInvalidToken},
		"unknown type":      {sign(core.EmailClaims{Email: "u@x.test", UpdateTo: "n@x.test", RequestType: "other", UserID: v.User.ID()}), core.ErrInvalidToken},
		"reset-style token": {"AbCdEfGhIjKlMnOpQrStUvWx", core.ErrInvalidToken},
	}
	for name, c := range cases {
		_, err := e.auth.VerifyEmail(ctx, c.token, "", nil)
		if !errorsIs(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
	}
	e.clock.Advance(time.Hour + time.Second)
	_, err := e.auth.VerifyEmail(ctx, good, "", nil)
	e.mustFail(err, core.ErrTokenExpired)
	if u, _ := e.store.Users().ByID(ctx, v.User.ID()); u.EmailVerified() {
		t.Fatal("a rejected token verified the user")
	}
}

func TestVerifyEmailLegacyChangeToken(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("old@x.test", "12345678")
	verifyByMail(t, e, v)
	e.clock.Advance(time.Minute) // past the cooldown of the mail verifyByMail sent
	tok, _ := e.signer.Sign(core.EmailClaims{Email: "old@x.test", UpdateTo: "new@x.test"}, t0, time.Hour)
	r, err := e.auth.VerifyEmail(ctx, tok, "", nil)
	if err != nil || !r.EmailChanged || r.User.Email() != "new@x.test" || r.User.EmailVerified() {
		t.Fatalf("%+v %v", r, err)
	}
	if len(e.mail.to("new@x.test")) != 1 {
		t.Fatal("no verification mail to the new address")
	}
}

func TestSendVerificationEmailWithSession(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("u@x.test", "12345678")
	e.mustFail(e.auth.SendVerificationEmail(ctx, &v, "other@x.test", ""), core.ErrEmailMismatch)
	e.mustFail(e.auth.SendVerificationEmail(ctx, &v, "bad", ""), core.ErrInvalidEmail)
	start := time.Now()
	if err := e.auth.SendVerificationEmail(ctx, &v, "U@x.test", "/done"); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 400*time.Millisecond {
		t.Fatal("the anonymous floor applied to a signed-in call")
	}
	m := e.mail.to("u@x.test")
	if len(m) != 1 || link(t, m[0]).RawQuery != "token="+link(t, m[0]).Query().Get("token")+"&callbackURL=%2Fdone" {
		t.Fatalf("mails = %+v", m)
	}
	if _, err := e.auth.VerifyEmail(ctx, link(t, m[0]).Query().Get("token"), "", &v); err != nil {
		t.Fatal(err)
	}
	v = e.view(v.Session.Token())
	e.mustFail(e.auth.SendVerificationEmail(ctx, &v, "u@x.test", ""), core.ErrEmailAlreadyVerified)
}

// TestSendVerificationEmailAnonymous: nil for every address, never sooner
// than 500 ms, and a mail only for an existing unverified account, even when
// the mailer fails.
func TestSendVerificationEmailAnonymous(t *testing.T) {
	e := newEnv(t, nil)
	e.signUp("unverified@x.test", "12345678")
	verified := e.user("verified@x.test", "12345678")
	verifyByMail(t, e, verified)
	before := len(e.mail.all())
	e.mail.fail.Store(true)

	type result struct {
		err     error
		elapsed time.Duration
	}
	emails := []string{"unverified@x.test", "verified@x.test", "ghost@x.test"}
	results := make(chan result, len(emails))
	for _, email := range emails {
		go func() {
			start := time.Now()
			err := e.auth.SendVerificationEmail(ctx, nil, email, "")
			results <- result{err, time.Since(start)}
		}()
	}
	for range emails {
		r := <-results
		if r.err != nil || r.elapsed < 500*time.Millisecond {
			t.Fatalf("err=%v elapsed=%v", r.err, r.elapsed)
		}
	}
	sent := e.mail.all()[before:]
	if len(sent) != 1 || sent[0].To != "unverified@x.test" {
		t.Fatalf("mails = %+v", sent)
	}
}
