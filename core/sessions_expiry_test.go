package core_test

import (
	"errors"
	"testing"
	"time"

	"github.com/authd/authd/core"
)

// Security battery 14 in the spec's short-TTL profile (expiresIn 10 s,
// updateAge 5 s), on the injected clock: a session slides once updateAge
// has passed, an idle one ends expiresIn after its last slide and its row is
// purged, and, like better-auth, there is no absolute lifetime: a session in
// steady use lives on. A "don't remember" session never slides.
func TestShortTTLSessionsSlideAndExpireWhenIdle(t *testing.T) {
	const expiresIn, updateAge = 10 * time.Second, 5 * time.Second
	e := newEnv(t, func(p *core.Policy, _ *core.Deps) {
		p.SessionExpiresIn, p.SessionUpdateAge = expiresIn, updateAge
		p.DontRememberExpiresIn = expiresIn
	})
	tok := e.signUp("u@x.test", "12345678").Session.Token()
	get := func() (core.SessionView, bool, error) {
		return e.auth.GetSession(ctx, tok, core.SessionOptions{})
	}

	e.clock.Advance(4 * time.Second)
	if v, refreshed, err := get(); err != nil || refreshed || !v.Session.ExpiresAt().Equal(t0.Add(expiresIn)) {
		t.Fatalf("t=4s: refreshed=%v expiresAt=%v err=%v", refreshed, v.Session.ExpiresAt(), err)
	}
	e.clock.Advance(2 * time.Second)
	v, refreshed, err := get()
	if err != nil || !refreshed || !v.Session.ExpiresAt().Equal(e.clock.T.Add(expiresIn)) {
		t.Fatalf("t=6s: refreshed=%v expiresAt=%v err=%v", refreshed, v.Session.ExpiresAt(), err)
	}
	if stored, _, err := e.store.Sessions().ByToken(ctx, tok); err != nil || !stored.ExpiresAt().Equal(e.clock.T.Add(expiresIn)) {
		t.Fatalf("t=6s: stored expiry %v, %v", stored.ExpiresAt(), err)
	}

	// Steady use for ten lifetimes: every call within the lifetime keeps the
	// session; the sign-in time never moves.
	for range 20 {
		e.clock.Advance(updateAge)
		v, _, err := get()
		if err != nil {
			t.Fatalf("active session ended at %v: %v", e.clock.T.Sub(t0), err)
		}
		if !v.Session.CreatedAt().Equal(t0) {
			t.Fatalf("createdAt moved to %v", v.Session.CreatedAt())
		}
	}
	if e.clock.T.Sub(t0) < 10*expiresIn {
		t.Fatal("the loop did not outlast ten lifetimes")
	}

	// Idle: alive up to and at its expiry instant, gone a millisecond later.
	v, _, _ = get()
	last := v.Session.ExpiresAt()
	e.clock.T = last
	if _, err := e.auth.RequireSession(ctx, tok); err != nil {
		t.Fatalf("at expiresAt: %v", err)
	}
	e.clock.T = last.Add(time.Millisecond)
	_, _, err = get()
	e.mustFail(err, core.ErrSessionNotFound)
	if _, _, err := e.store.Sessions().ByToken(ctx, tok); !errors.Is(err, core.ErrSessionNotFound) {
		t.Fatalf("expired row kept: %v", err)
	}

	// rememberMe=false: never slid, over at its first expiry.
	short, err := e.auth.SignInEmail(ctx, core.SignInInput{Email: "u@x.test", Password: "12345678", RememberMe: false})
	if err != nil {
		t.Fatal(err)
	}
	start := e.clock.T
	for range 2 {
		e.clock.Advance(updateAge)
		if _, refreshed, err := e.auth.GetSession(ctx, short.Session.Token(), core.SessionOptions{DontRemember: true}); err != nil || refreshed {
			t.Fatalf("dont-remember at %v: refreshed=%v err=%v", e.clock.T.Sub(start), refreshed, err)
		}
	}
	e.clock.Advance(time.Millisecond)
	_, _, err = e.auth.GetSession(ctx, short.Session.Token(), core.SessionOptions{DontRemember: true})
	e.mustFail(err, core.ErrSessionNotFound)
}
