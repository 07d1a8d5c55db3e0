package core_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/core"
)

// countingLimiter counts the calls that reach the limiter, so that tests can
// assert that two branches make the same round trips; down makes every call
// fail, as an unreachable Postgres limiter would.
type countingLimiter struct {
	core.RateLimiter
	calls atomic.Int64
	down  atomic.Bool
	keys  sync.Map // every key consumed
}

func (l *countingLimiter) Consume(ctx context.Context, key string, w time.Duration, max int, now time.Time) (core.RateDecision, error) {
	l.calls.Add(1)
	l.keys.Store(key, true)
	if l.down.Load() {
		return core.RateDecision{}, errInjected
	}
	return l.RateLimiter.Consume(ctx, key, w, max, now)
}

func (l *countingLimiter) Peek(ctx context.Context, key string, w time.Duration, max int, now time.Time) (core.RateDecision, error) {
	l.calls.Add(1)
	if l.down.Load() {
		return core.RateDecision{}, errInjected
	}
	return l.RateLimiter.Peek(ctx, key, w, max, now)
}

func newCountingEnv(t *testing.T, tweak func(p *core.Policy)) (*env, *countingLimiter) {
	var cl *countingLimiter
	e := newEnv(t, func(p *core.Policy, d *core.Deps) {
		cl = &countingLimiter{RateLimiter: d.Limiter}
		d.Limiter = cl
		if tweak != nil {
			tweak(p)
		}
	})
	return e, cl
}

func (e *env) failSignIn(email string) {
	e.t.Helper()
	_, err := e.auth.SignInEmail(ctx, core.SignInInput{Email: email, Password: "wrong-password"})
	e.mustFail(err, core.ErrInvalidEmailOrPassword)
}

// wantThrottled checks a sign-in refused by the per-account throttle: 429
// with retryAfter, and no password hashed.
func (e *env) wantThrottled(in core.SignInInput, retryAfter time.Duration) *core.Error {
	e.t.Helper()
	ops := e.hasher.Ops.Load()
	_, err := e.auth.SignInEmail(ctx, in)
	e.mustFail(err, core.ErrTooManyRequests)
	var ce *core.Error
	if !errors.As(err, &ce) || ce.Kind != core.KindRateLimited || ce.RetryAfter != retryAfter {
		e.t.Fatalf("%s: %#v, want KindRateLimited retrying after %v", in.Email, ce, retryAfter)
	}
	if e.hasher.Ops.Load() != ops {
		e.t.Fatalf("%s: a throttled sign-in was hashed", in.Email)
	}
	return ce
}

// TestFailedSignInThrottle: the 101st sign-in within an hour of 100 wrong
// passwords from one network (here: no address, which all such clients
// share) is refused before any hashing, whatever the password and the
// spelling of the address, until the window frees; other accounts are not
// affected.
func TestFailedSignInThrottle(t *testing.T) {
	e := newEnv(t, nil)
	e.signUp("u@x.test", "right-password")
	e.signUp("other@x.test", "right-password")
	for i := range 100 {
		e.clock.Advance(time.Second)
		if i%2 == 0 {
			e.failSignIn("U@x.test")
		} else {
			e.failSignIn("u@x.test")
		}
	}
	// The window runs from the last failure.
	e.clock.Advance(10 * time.Minute)
	e.wantThrottled(core.SignInInput{Email: "u@x.test", Password: "wrong-password"}, 50*time.Minute)
	e.wantThrottled(core.SignInInput{Email: "u@X.TEST", Password: "right-password"}, 50*time.Minute)
	e.signIn("other@x.test", "right-password")

	e.clock.Advance(50*time.Minute - time.Millisecond)
	e.wantThrottled(core.SignInInput{Email: "u@x.test", Password: "right-password"}, time.Millisecond)
	e.clock.Advance(time.Millisecond)
	e.signIn("u@x.test", "right-password")
	// A fresh window: the count restarted, so wrong passwords are answered
	// as such again.
	e.failSignIn("u@x.test")
	e.signIn("u@x.test", "right-password")
}

// TestPasswordResetLiftsTheThrottle: an owner locked out by someone else's
// wrong passwords, on their own network and on the whole account, gets back
// in by resetting the password, from any network; another account stays
// throttled.
func TestPasswordResetLiftsTheThrottle(t *testing.T) {
	e := newEnv(t, func(p *core.Policy, _ *core.Deps) {
		p.FailedSignInsPerNetwork = 3
		p.FailedSignInsPerAccount = 6
	})
	e.signUp("u@x.test", "right-password")
	e.signUp("other@x.test", "right-password")
	for _, ip := range []string{"203.0.113.7", "198.51.100.7"} {
		for range 3 {
			e.failSignInFrom("u@x.test", ip)
			e.failSignInFrom("other@x.test", ip)
		}
	}
	e.wantThrottled(signInFrom("u@x.test", "right-password", "203.0.113.8"), time.Hour)
	e.wantThrottled(signInFrom("u@x.test", "right-password", "192.0.2.8"), time.Hour)

	token := requestReset(t, e, "u@x.test", "/reset")
	if err := e.auth.ResetPassword(ctx, token, "brand-new-password"); err != nil {
		t.Fatal(err)
	}
	for _, ip := range []string{"203.0.113.8", "198.51.100.8", "192.0.2.8"} {
		e.signInFrom("u@x.test", "brand-new-password", ip)
	}
	e.wantThrottled(signInFrom("other@x.test", "right-password", "203.0.113.8"), time.Hour)
	e.wantThrottled(signInFrom("other@x.test", "right-password", "192.0.2.8"), time.Hour)
}

// TestFailedSignInKeysHoldNoAddress: counters are stored, and must not
// become a list of the addresses someone tried, nor of the clients, nor
// of the device ids.
func TestFailedSignInKeysHoldNoAddress(t *testing.T) {
	e, cl := newCountingEnv(t, nil)
	known := e.signUp("known@x.test", "right-password").User.ID()
	e.failSignInFrom("known@x.test", "203.0.113.77")
	e.failSignInFrom("ghost@x.test", "2001:db8:77::1")
	in := signInFrom("known@x.test", "wrong-password", "203.0.113.77")
	in.Meta.Device = core.KnownDevice{UserID: known, ID: "device-nonce-77"}
	_, err := e.auth.SignInEmail(ctx, in)
	e.mustFail(err, core.ErrInvalidEmailOrPassword)
	n := 0
	cl.keys.Range(func(k, _ any) bool {
		n++
		key := k.(string)
		for _, raw := range []string{"known", "ghost", "@", "203.0.113", "2001:db8", "device-nonce", known} {
			if strings.Contains(key, raw) {
				t.Errorf("limiter key %q holds %q", key, raw)
			}
		}
		return true
	})
	if n != 5 {
		t.Fatalf("%d keys counted, want 5 (network and account of two emails, one device)", n)
	}
}

// TestSuccessfulSignInsDoNotCount: only wrong passwords use up the budget.
func TestSuccessfulSignInsDoNotCount(t *testing.T) {
	e := newEnv(t, func(p *core.Policy, _ *core.Deps) { p.FailedSignInsPerNetwork = 3 })
	e.signUp("u@x.test", "right-password")
	e.failSignIn("u@x.test")
	e.failSignIn("u@x.test")
	for range 10 {
		e.signIn("u@x.test", "right-password")
	}
	e.failSignIn("u@x.test")
	e.wantThrottled(core.SignInInput{Email: "u@x.test", Password: "right-password"}, time.Hour)
}

// TestFailedSignInThrottleDoesNotEnumerate: unknown addresses, users without
// a password and wrong passwords use up the budget alike, make the same
// limiter round trips, and are refused with the same error.
func TestFailedSignInThrottleDoesNotEnumerate(t *testing.T) {
	e, cl := newCountingEnv(t, func(p *core.Policy) { p.FailedSignInsPerNetwork = 5 })
	e.signUp("known@x.test", "right-password")
	createUserWithoutPassword(t, e, "social@x.test", "github", nil)
	createUserWithoutPassword(t, e, "nullpw@x.test", "credential", nil)
	emails := []string{"unknown@x.test", "social@x.test", "nullpw@x.test", "known@x.test"}
	for range 5 {
		for _, email := range emails {
			before := cl.calls.Load()
			e.failSignIn(email)
			if n := cl.calls.Load() - before; n != 4 {
				t.Fatalf("%s: %d limiter calls, want 4 (look at network and account, then count both)", email, n)
			}
		}
	}
	var first *core.Error
	for _, email := range emails {
		before := cl.calls.Load()
		ce := e.wantThrottled(core.SignInInput{Email: email, Password: "wrong-password"}, time.Hour)
		if n := cl.calls.Load() - before; n != 1 {
			t.Fatalf("%s: %d limiter calls, want 1", email, n)
		}
		if first == nil {
			first = ce
		}
		if *ce != *first {
			t.Fatalf("%s: %#v differs from %#v", email, ce, first)
		}
	}
}

// TestSignInThrottleFailsClosed: a limiter that cannot be reached is an
// outage, never a pass: no password is checked without the throttle.
func TestSignInThrottleFailsClosed(t *testing.T) {
	e, cl := newCountingEnv(t, nil)
	e.signUp("u@x.test", "right-password")
	cl.down.Store(true)
	ops := e.hasher.Ops.Load()
	for _, pw := range []string{"right-password", "wrong-password"} {
		r, err := e.auth.SignInEmail(ctx, core.SignInInput{Email: "u@x.test", Password: pw})
		e.mustFail(err, core.ErrUnavailable)
		if r.Session != nil {
			t.Fatal("session created without the throttle")
		}
	}
	if e.hasher.Ops.Load() != ops {
		t.Fatal("a password was checked without the throttle")
	}
}

// TestMailCooldown: at most one mail of each kind per account per minute; a
// held-back mail changes nothing in the answer; the minute runs from the
// last mail sent; accounts and kinds do not share a cooldown.
func TestMailCooldown(t *testing.T) {
	kinds := []struct {
		name    string
		subject string
		send    func(e *env, v core.SessionView) error
	}{
		{"reset", "Reset your password", func(e *env, v core.SessionView) error {
			return e.auth.RequestPasswordReset(ctx, strings.ToUpper(v.User.Email()), "")
		}},
		{"verify", "Verify your email address", func(e *env, v core.SessionView) error {
			return e.auth.SendVerificationEmail(ctx, &v, v.User.Email(), "")
		}},
		{"delete", "Confirm the deletion of your account", func(e *env, v core.SessionView) error {
			r, err := e.auth.DeleteUser(ctx, v, core.DeleteUserInput{})
			if err == nil && r.Deleted {
				e.t.Fatal("deleted without confirmation")
			}
			return err
		}},
		{"change-email", "Verify your new email address", func(e *env, v core.SessionView) error {
			return e.auth.ChangeEmail(ctx, v, "new-"+v.User.Email(), "")
		}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			e := newEnv(t, nil)
			a, b := e.user("a@x.test", "12345678"), e.user("b@x.test", "12345678")
			count := func(v core.SessionView) int {
				n := 0
				for _, m := range e.mail.all() {
					if m.Subject == k.subject && strings.HasSuffix(m.To, v.User.Email()) {
						n++
					}
				}
				return n
			}
			step := func(v core.SessionView, want int, what string) {
				t.Helper()
				if err := k.send(e, v); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if n := count(v); n != want {
					t.Fatalf("%s: %d mails to %s, want %d", what, n, v.User.Email(), want)
				}
			}
			step(a, 1, "first request")
			e.clock.Advance(30 * time.Second)
			step(a, 1, "second request 30 s later")
			step(b, 1, "another account's first request")
			e.clock.Advance(30*time.Second - time.Millisecond)
			step(a, 1, "request 1 ms before the minute is up")
			e.clock.Advance(time.Millisecond)
			step(a, 2, "request a minute after the first mail")
		})
	}
}

// TestMailCooldownKeepsFlowsWhole: the mails of one change of email are of
// different kinds, so approving a change right away still mails the new
// address; approving it again within the minute does not, and answers the
// same.
func TestMailCooldownKeepsFlowsWhole(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("old@x.test", "12345678")
	verifyByMail(t, e, v)
	v = e.view(v.Session.Token())
	if err := e.auth.ChangeEmail(ctx, v, "new@x.test", "/done"); err != nil {
		t.Fatal(err)
	}
	confirm := e.mail.to("old@x.test")
	tok := link(t, confirm[len(confirm)-1]).Query().Get("token")
	for range 2 {
		r, err := e.auth.VerifyEmail(ctx, tok, "/done", &v)
		if err != nil || !r.ConfirmationSent {
			t.Fatalf("%+v %v", r, err)
		}
	}
	if n := len(e.mail.to("new@x.test")); n != 1 {
		t.Fatalf("%d mails to the new address, want 1", n)
	}
}

func TestExistingAccountNoticeCooldown(t *testing.T) {
	e := newEnv(t, func(p *core.Policy, _ *core.Deps) { p.RequireEmailVerification = true })
	if _, err := e.auth.SignUpEmail(ctx, core.SignUpInput{Name: "A", Email: "a@x.test", Password: "12345678"}); err != nil {
		t.Fatal(err)
	}
	notices := func() int {
		n := 0
		for _, m := range e.mail.to("a@x.test") {
			if m.Subject == "Sign-up attempt with your email address" {
				n++
			}
		}
		return n
	}
	for i, want := range []int{1, 1, 2} {
		if i == 2 {
			e.clock.Advance(time.Minute)
		}
		r, err := e.auth.SignUpEmail(ctx, core.SignUpInput{Name: "A", Email: "A@x.test", Password: "12345678"})
		if err != nil || r.Session != nil {
			t.Fatalf("duplicate sign-up %d: %+v %v", i, r, err)
		}
		if n := notices(); n != want {
			t.Fatalf("after duplicate sign-up %d: %d notices, want %d", i, n, want)
		}
	}
}

// TestResetRequestRoundTrips: a known address, the same address within its
// cooldown and an unknown address cost one limiter round trip each, so the
// cooldown adds no timing difference between them.
func TestResetRequestRoundTrips(t *testing.T) {
	e, cl := newCountingEnv(t, nil)
	e.user("u@x.test", "12345678")
	for _, email := range []string{"u@x.test", "u@x.test", "ghost@x.test"} {
		before := cl.calls.Load()
		if err := e.auth.RequestPasswordReset(ctx, email, ""); err != nil {
			t.Fatal(err)
		}
		if n := cl.calls.Load() - before; n != 1 {
			t.Fatalf("%s: %d limiter calls, want 1", email, n)
		}
	}
	if n := len(e.mail.all()); n != 1 {
		t.Fatalf("%d mails, want 1", n)
	}
}

func TestVerifyPassword(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("u@x.test", "right-password")
	if err := e.auth.VerifyPassword(ctx, v, "right-password", core.RequestMeta{}); err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"wrong-password", "", "right-passwor", "RIGHT-PASSWORD"} {
		err := e.auth.VerifyPassword(ctx, v, pw, core.RequestMeta{})
		e.mustFail(err, core.ErrInvalidPassword)
		if kindOf(err) != core.KindInvalid {
			t.Fatalf("kind = %v", kindOf(err))
		}
	}
	ops := e.hasher.Ops.Load()
	e.mustFail(e.auth.VerifyPassword(ctx, v, strings.Repeat("x", 129), core.RequestMeta{}), core.ErrPasswordTooLong)
	if e.hasher.Ops.Load() != ops {
		t.Fatal("an over-long password was hashed")
	}

	// better-auth's validatePassword answers a user without a password
	// like a wrong one.
	social := createUserWithoutPassword(t, e, "social@x.test", "github", nil)
	nullpw := createUserWithoutPassword(t, e, "nullpw@x.test", "credential", nil)
	for _, u := range []core.User{social, nullpw} {
		err := e.auth.VerifyPassword(ctx, core.SessionView{User: u}, "anything", core.RequestMeta{})
		e.mustFail(err, core.ErrInvalidPassword)
	}
	if n := len(e.mail.all()); n != 0 {
		t.Fatalf("%d mails sent", n)
	}
}
