package core_test

import (
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/core"
	"github.com/authd/authd/core/coretest"
)

var alnum32 = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)

func TestSignUpCreatesUserAccountAndSession(t *testing.T) {
	e := newEnv(t, nil)
	img := "https://img.example/a.png"
	r, err := e.auth.SignUpEmail(ctx, core.SignUpInput{Name: "Alice", Email: "Alice@Example.COM", Password: "correct horse",
		Image: &img, RememberMe: true, Meta: core.RequestMeta{IP: "203.0.113.7", UserAgent: "ua/1"}})
	if err != nil {
		t.Fatal(err)
	}
	u := r.User
	if u.Email() != "alice@example.com" || u.Name() != "Alice" || u.EmailVerified() || *u.Image() != img {
		t.Fatalf("user = %+v", u.Record())
	}
	if !alnum32.MatchString(u.ID()) || !u.CreatedAt().Equal(t0) || !u.UpdatedAt().Equal(t0) {
		t.Fatalf("user id/timestamps = %+v", u.Record())
	}
	s := r.Session
	if s == nil {
		t.Fatal("no session")
	}
	if !alnum32.MatchString(s.Token()) || !alnum32.MatchString(s.ID()) || s.Token() == s.ID() {
		t.Fatalf("session id/token = %q/%q", s.ID(), s.Token())
	}
	if !s.ExpiresAt().Equal(t0.Add(7*24*time.Hour)) || s.IPAddress() != "203.0.113.7" || s.UserAgent() != "ua/1" || s.UserID() != u.ID() {
		t.Fatalf("session = %+v", s.Record())
	}
	acc, err := e.store.Accounts().Credential(ctx, u.ID())
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := acc.PasswordHash(); h != coretest.Hash("correct horse") || acc.AccountID() != u.ID() || acc.ProviderID() != "credential" {
		t.Fatalf("account = %+v", acc.Record())
	}
	if got, err := e.store.Users().ByEmail(ctx, "alice@example.com"); err != nil || got.ID() != u.ID() {
		t.Fatalf("stored user: %v %v", got.Record(), err)
	}
	if len(e.mail.all()) != 0 {
		t.Fatalf("mail sent without requireEmailVerification: %+v", e.mail.all())
	}
	// The new session works.
	if v := e.view(s.Token()); v.User.ID() != u.ID() {
		t.Fatal("session does not resolve to the user")
	}
}

func TestSignUpRememberMeFalseUsesShortSession(t *testing.T) {
	e := newEnv(t, nil)
	r, err := e.auth.SignUpEmail(ctx, core.SignUpInput{Name: "A", Email: "a@x.test", Password: "12345678", RememberMe: false})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Session.ExpiresAt().Equal(t0.Add(24 * time.Hour)) {
		t.Fatalf("expiresAt = %v, want now+1d", r.Session.ExpiresAt())
	}
}

func TestPasswordLengthCountsUTF16Units(t *testing.T) {
	for pw, want := range map[string]int{"": 0, "a": 1, "é": 1, "€": 1, "😀": 2, "a😀b": 4, "\xff": 1} {
		if got := core.PasswordLength(pw); got != want {
			t.Errorf("PasswordLength(%q) = %d, want %d", pw, got, want)
		}
	}
}

func TestSignUpPasswordBoundaries(t *testing.T) {
	emoji := "😀"
	cases := []struct {
		name, pw string
		want     error
	}{
		{"7 ascii", strings.Repeat("a", 7), core.ErrPasswordTooShort},
		{"8 ascii", strings.Repeat("a", 8), nil},
		{"128 ascii", strings.Repeat("a", 128), nil},
		{"129 ascii", strings.Repeat("a", 129), core.ErrPasswordTooLong},
		{"3 emoji + 1 (7 units)", strings.Repeat(emoji, 3) + "a", core.ErrPasswordTooShort},
		{"4 emoji (8 units, 16 bytes)", strings.Repeat(emoji, 4), nil},
		{"64 emoji (128 units)", strings.Repeat(emoji, 64), nil},
		{"65 emoji (130 units)", strings.Repeat(emoji, 65), core.ErrPasswordTooLong},
		{"7 two-byte chars", strings.Repeat("é", 7), core.ErrPasswordTooShort},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, nil)
			_, err := e.auth.SignUpEmail(ctx, core.SignUpInput{Name: "N", Email: "u" + string(rune('a'+i)) + "@x.test", Password: c.pw, RememberMe: true})
			if c.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e.mustFail(err, c.want)
			if kindOf(err) != core.KindInvalid {
				t.Fatalf("kind = %v", kindOf(err))
			}
			if n := e.hasher.Ops.Load(); n != 0 {
				t.Fatalf("hashed %d times before rejecting the length", n)
			}
		})
	}
}

func TestSignUpRejectsInvalidEmail(t *testing.T) {
	for _, email := range []string{"", "no-at", "a@b.c\r\nBcc: x@y.test", "victim＠example.com", strings.Repeat("a", 300) + "@x.test"} {
		e := newEnv(t, nil)
		_, err := e.auth.SignUpEmail(ctx, core.SignUpInput{Name: "N", Email: email, Password: "12345678"})
		e.mustFail(err, core.ErrInvalidEmail)
		if len(e.mail.all()) != 0 || e.hasher.Ops.Load() != 0 {
			t.Fatalf("%q: side effects after invalid email", email)
		}
	}
}

func TestSignUpDuplicateIs422(t *testing.T) {
	e := newEnv(t, nil)
	e.signUp("dup@x.test", "password-1")
	_, err := e.auth.SignUpEmail(ctx, core.SignUpInput{Name: "B", Email: "DUP@x.test", Password: "password-2", RememberMe: true})
	e.mustFail(err, core.ErrUserExists)
	if kindOf(err) != core.KindConflict {
		t.Fatalf("kind = %v, want conflict (422)", kindOf(err))
	}
	// The first user's password is untouched.
	e.signIn("dup@x.test", "password-1")
}

func TestSignUpRequireVerificationSendsMailAndNoSession(t *testing.T) {
	e := newEnv(t, func(p *core.Policy, _ *core.Deps) { p.RequireEmailVerification = true })
	r, err := e.auth.SignUpEmail(ctx, core.SignUpInput{Name: "V", Email: "v@x.test", Password: "12345678", RememberMe: true,
		CallbackURL: "/welcome?from=mail"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Session != nil {
		t.Fatal("session created although verification is required")
	}
	mails := e.mail.to("v@x.test")
	if len(mails) != 1 {
		t.Fatalf("mails = %+v", e.mail.all())
	}
	u := link(t, mails[0])
	if got := u.Scheme + "://" + u.Host + u.Path; got != baseURL+"/verify-email" {
		t.Fatalf("link = %s", u)
	}
	if u.RawQuery != "token="+u.Query().Get("token")+"&callbackURL=%2Fwelcome%3Ffrom%3Dmail" {
		t.Fatalf("query = %s", u.RawQuery)
	}
	claims, err := e.signer.Parse(u.Query().Get("token"), t0)
	if err != nil || claims.Email != "v@x.test" || claims.UserID != r.User.ID() || claims.UpdateTo != "" || claims.RequestType != "" {
		t.Fatalf("claims = %+v, %v", claims, err)
	}
	if e.countSessions(r.User.ID()) != 0 {
		t.Fatal("session row stored")
	}
}

func TestSignUpEnumerationProtection(t *testing.T) {
	e := newEnv(t, func(p *core.Policy, _ *core.Deps) { p.RequireEmailVerification = true })
	real, err := e.auth.SignUpEmail(ctx, core.SignUpInput{Name: "Owner", Email: "taken@x.test", Password: "owner-password"})
	if err != nil {
		t.Fatal(err)
	}
	opsFresh := e.hasher.Ops.Load()
	e.clock.Advance(time.Minute)
	img := "https://img.example/x.png"
	dup, err := e.auth.SignUpEmail(ctx, core.SignUpInput{Name: "Mallory", Email: "Taken@X.test", Password: "attacker-pass", Image: &img})
	if err != nil {
		t.Fatalf("duplicate under protection: %v", err)
	}
	if dup.Session != nil {
		t.Fatal("synthetic sign-up has a session")
	}
	s := dup.User
	if s.ID() == real.User.ID() || !alnum32.MatchString(s.ID()) || s.Name() != "Mallory" || s.Email() != "taken@x.test" ||
		s.EmailVerified() || *s.Image() != img || !s.CreatedAt().Equal(e.clock.T) || !s.UpdatedAt().Equal(e.clock.T) {
		t.Fatalf("synthetic user = %+v", s.Record())
	}
	if got := e.hasher.Ops.Load() - opsFresh; got != opsFresh {
		t.Fatalf("duplicate did %d hash ops, fresh sign-up %d", got, opsFresh)
	}
	// Nothing stored under the synthetic id; the owner's password still works.
	if _, err := e.store.Users().ByID(ctx, s.ID()); !errors.Is(err, core.ErrUserNotFound) {
		t.Fatalf("synthetic user stored: %v", err)
	}
	stored, _ := e.store.Users().ByEmail(ctx, "taken@x.test")
	if stored.Name() != "Owner" {
		t.Fatal("owner overwritten")
	}
	// The owner gets one verification mail (their sign-up) and one notice,
	// which carries no link that could act on the account.
	mails := e.mail.to("taken@x.test")
	if len(mails) != 2 || strings.Contains(mails[1].Text, "http") {
		t.Fatalf("mails = %+v", mails)
	}
}

func TestSignUpRollsBackWhenSessionCreateFails(t *testing.T) {
	e := newEnv(t, func(_ *core.Policy, d *core.Deps) {
		d.Sessions = &sessionsWithFaults{SessionRepository: d.Sessions, create: errInjected}
	})
	_, err := e.auth.SignUpEmail(ctx, core.SignUpInput{Name: "R", Email: "r@x.test", Password: "12345678", RememberMe: true})
	e.mustFail(err, core.ErrUnavailable)
	if _, err := e.store.Users().ByEmail(ctx, "r@x.test"); !errors.Is(err, core.ErrUserNotFound) {
		t.Fatalf("user left behind after rollback: %v", err)
	}
	// The address is free again: a healthy engine on the same store signs up.
	d := e.deps
	d.Sessions = e.store.Sessions()
	if _, err := core.NewAuth(d, e.policy).SignUpEmail(ctx, core.SignUpInput{Name: "R", Email: "r@x.test", Password: "12345678"}); err != nil {
		t.Fatal(err)
	}
}

func TestSignUpSessionConflictIsFailedToCreateSession(t *testing.T) {
	e := newEnv(t, func(_ *core.Policy, d *core.Deps) {
		d.Sessions = &sessionsWithFaults{SessionRepository: d.Sessions, create: core.ErrDuplicate}
	})
	_, err := e.auth.SignUpEmail(ctx, core.SignUpInput{Name: "R", Email: "r@x.test", Password: "12345678", RememberMe: true})
	e.mustFail(err, core.ErrFailedToCreateSession)
	if _, err := e.store.Users().ByEmail(ctx, "r@x.test"); !errors.Is(err, core.ErrUserNotFound) {
		t.Fatal("user left behind")
	}
}

func TestConcurrentSignUpsOfOneEmail(t *testing.T) {
	for _, protect := range []bool{false, true} {
		name := "default"
		if protect {
			name = "enumeration-protection"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, func(p *core.Policy, _ *core.Deps) { p.RequireEmailVerification = protect })
			const n = 50
			variants := []string{"a@x.test", "A@x.test", "a@X.TEST", "A@X.Test"}
			var wg sync.WaitGroup
			start := make(chan struct{})
			results := make([]core.AuthResult, n)
			errs := make([]error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					results[i], errs[i] = e.auth.SignUpEmail(ctx, core.SignUpInput{Name: "N", Email: variants[i%len(variants)],
						Password: "12345678", RememberMe: true})
				}()
			}
			close(start)
			wg.Wait()
			stored, err := e.store.Users().ByEmail(ctx, "a@x.test")
			if err != nil {
				t.Fatal(err)
			}
			winners := 0
			for i, err := range errs {
				switch {
				case err == nil && results[i].User.ID() == stored.ID():
					winners++
				case err == nil && protect:
					// synthetic answer
				case errors.Is(err, core.ErrUserExists) && !protect:
				default:
					t.Fatalf("request %d: %v", i, err)
				}
			}
			if winners != 1 {
				t.Fatalf("%d requests created the user", winners)
			}
			accs, err := e.store.Accounts().ListByUser(ctx, stored.ID())
			if err != nil || len(accs) != 1 {
				t.Fatalf("accounts = %d, %v", len(accs), err)
			}
		})
	}
}
