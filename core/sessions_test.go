package core_test

import (
	"errors"
	"testing"
	"time"

	"github.com/authd/authd/core"
)

const day = 24 * time.Hour

func TestGetSessionUnknownOrEmpty(t *testing.T) {
	e := newEnv(t, nil)
	for _, tok := range []string{"", "nope", "0123456789abcdefghijklmnopqrstuv"} {
		_, _, err := e.auth.GetSession(ctx, tok, core.SessionOptions{})
		e.mustFail(err, core.ErrSessionNotFound)
	}
}

func TestGetSessionSlidingRefresh(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.signUp("u@x.test", "12345678").Session.Token()

	e.clock.Advance(day - time.Millisecond)
	v, refreshed, err := e.auth.GetSession(ctx, tok, core.SessionOptions{})
	if err != nil || refreshed || !v.Session.ExpiresAt().Equal(t0.Add(7*day)) {
		t.Fatalf("before updateAge: refreshed=%v expiresAt=%v err=%v", refreshed, v.Session.ExpiresAt(), err)
	}

	e.clock.Advance(time.Millisecond) // exactly updateAge: expiresAt - expiresIn + updateAge <= now
	for _, o := range []core.SessionOptions{{DontRemember: true}, {DisableRefresh: true}} {
		v, refreshed, err = e.auth.GetSession(ctx, tok, o)
		if err != nil || refreshed || !v.Session.ExpiresAt().Equal(t0.Add(7*day)) {
			t.Fatalf("%+v: refreshed=%v err=%v", o, refreshed, err)
		}
	}
	v, refreshed, err = e.auth.GetSession(ctx, tok, core.SessionOptions{})
	if err != nil || !refreshed {
		t.Fatalf("at updateAge: refreshed=%v err=%v", refreshed, err)
	}
	now := e.clock.T
	if !v.Session.ExpiresAt().Equal(now.Add(7*day)) || !v.Session.UpdatedAt().Equal(now) || !v.Session.CreatedAt().Equal(t0) {
		t.Fatalf("refreshed session = %+v", v.Session.Record())
	}
	stored, _, err := e.store.Sessions().ByToken(ctx, tok)
	if err != nil || !stored.ExpiresAt().Equal(now.Add(7*day)) {
		t.Fatalf("stored expiry = %v, %v", stored.ExpiresAt(), err)
	}
	// Right after a refresh there is no other.
	e.clock.Advance(time.Hour)
	if _, refreshed, _ = e.auth.GetSession(ctx, tok, core.SessionOptions{}); refreshed {
		t.Fatal("refreshed again within updateAge")
	}
}

func TestGetSessionRefreshOfVanishedRowFails(t *testing.T) {
	e := newEnv(t, func(_ *core.Policy, d *core.Deps) {
		d.Sessions = &sessionsWithFaults{SessionRepository: d.Sessions, update: core.ErrSessionNotFound}
	})
	tok := e.signUp("u@x.test", "12345678").Session.Token()
	e.clock.Advance(day)
	_, _, err := e.auth.GetSession(ctx, tok, core.SessionOptions{})
	e.mustFail(err, core.ErrFailedToGetSession)
}

func TestGetSessionRefreshOutageIsNotSignedOut(t *testing.T) {
	e := newEnv(t, func(_ *core.Policy, d *core.Deps) {
		d.Sessions = &sessionsWithFaults{SessionRepository: d.Sessions, update: errInjected}
	})
	tok := e.signUp("u@x.test", "12345678").Session.Token()
	e.clock.Advance(day)
	_, _, err := e.auth.GetSession(ctx, tok, core.SessionOptions{})
	e.mustFail(err, core.ErrUnavailable)
}

func TestExpiredSessionIsDeleted(t *testing.T) {
	e := newEnv(t, nil)
	r := e.signUp("u@x.test", "12345678")
	short, err := e.auth.SignInEmail(ctx, core.SignInInput{Email: "u@x.test", Password: "12345678", RememberMe: false})
	if err != nil {
		t.Fatal(err)
	}
	// The one-day session ends; it is never slid forward.
	e.clock.Advance(day / 2)
	if _, refreshed, err := e.auth.GetSession(ctx, short.Session.Token(), core.SessionOptions{DontRemember: true}); err != nil || refreshed {
		t.Fatal(refreshed, err)
	}
	e.clock.Advance(day/2 + time.Millisecond)
	_, _, err = e.auth.GetSession(ctx, short.Session.Token(), core.SessionOptions{DontRemember: true})
	e.mustFail(err, core.ErrSessionNotFound)
	if _, _, err := e.store.Sessions().ByToken(ctx, short.Session.Token()); !errors.Is(err, core.ErrSessionNotFound) {
		t.Fatal("expired row kept")
	}
	// RequireSession treats expiry alike.
	e.clock.Advance(7 * day)
	_, err = e.auth.RequireSession(ctx, r.Session.Token())
	e.mustFail(err, core.ErrSessionNotFound)
	if e.countSessions(r.User.ID()) != 0 {
		t.Fatal("expired row kept")
	}
}

func TestRequireSessionNeverRefreshes(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.signUp("u@x.test", "12345678").Session.Token()
	_, err := e.auth.RequireSession(ctx, "unknown")
	e.mustFail(err, core.ErrSessionNotFound)
	_, err = e.auth.RequireSession(ctx, "")
	e.mustFail(err, core.ErrSessionNotFound)
	e.clock.Advance(3 * day)
	v := e.view(tok)
	if !v.Session.ExpiresAt().Equal(t0.Add(7 * day)) {
		t.Fatal("RequireSession moved the expiry")
	}
}

func TestSignOut(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.signUp("u@x.test", "12345678").Session.Token()
	for _, tk := range []string{"", "unknown"} {
		if err := e.auth.SignOut(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.auth.SignOut(ctx, tok); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.auth.GetSession(ctx, tok, core.SessionOptions{})
	e.mustFail(err, core.ErrSessionNotFound)
}

func TestListSessions(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("u@x.test", "12345678")
	short, _ := e.auth.SignInEmail(ctx, core.SignInInput{Email: "u@x.test", Password: "12345678", RememberMe: false})
	e.user("other@x.test", "12345678")

	list, err := e.auth.ListSessions(ctx, v)
	if err != nil || len(list) != 2 {
		t.Fatalf("list = %d, %v", len(list), err)
	}
	for _, s := range list {
		if s.UserID() != v.User.ID() {
			t.Fatal("foreign session listed")
		}
	}
	// Not fresh once a day has passed since sign-in (createdAt, not expiry).
	e.clock.Advance(day - time.Millisecond)
	if _, err := e.auth.ListSessions(ctx, v); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Millisecond)
	_, err = e.auth.ListSessions(ctx, v)
	e.mustFail(err, core.ErrSessionNotFresh)
	if kindOf(err) != core.KindForbidden {
		t.Fatalf("kind = %v", kindOf(err))
	}
	// Expired sessions are left out, from a fresh session.
	fresh := e.view(e.signIn("u@x.test", "12345678").Session.Token())
	list, err = e.auth.ListSessions(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Token() == short.Session.Token() {
			t.Fatal("expired session listed")
		}
	}
	if len(list) != 2 {
		t.Fatalf("list = %d, want 2", len(list))
	}
}

func TestListSessionsFreshAgeZeroDisablesCheck(t *testing.T) {
	e := newEnv(t, func(p *core.Policy, _ *core.Deps) { p.SessionFreshAge = 0 })
	v := e.user("u@x.test", "12345678")
	e.clock.Advance(5 * day)
	if _, err := e.auth.ListSessions(ctx, v); err != nil {
		t.Fatal(err)
	}
}

func TestRevokeSession(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("u@x.test", "12345678")
	second := e.signIn("u@x.test", "12345678").Session.Token()
	victim := e.user("victim@x.test", "12345678")

	for _, tok := range []string{"", "unknown", victim.Session.Token()} {
		cur, err := e.auth.RevokeSession(ctx, v, tok)
		if err != nil || cur {
			t.Fatalf("%q: cur=%v err=%v", tok, cur, err)
		}
	}
	if _, err := e.auth.RequireSession(ctx, victim.Session.Token()); err != nil {
		t.Fatal("a foreign session was revoked")
	}
	cur, err := e.auth.RevokeSession(ctx, v, second)
	if err != nil || cur {
		t.Fatalf("own other: cur=%v err=%v", cur, err)
	}
	if _, err := e.auth.RequireSession(ctx, second); !errors.Is(err, core.ErrSessionNotFound) {
		t.Fatal("own session not revoked")
	}
	cur, err = e.auth.RevokeSession(ctx, v, v.Session.Token())
	if err != nil || !cur {
		t.Fatalf("own current: cur=%v err=%v", cur, err)
	}
	if e.countSessions(v.User.ID()) != 0 {
		t.Fatal("current session not revoked")
	}
}

func TestRevokeSessionsAndOthers(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("u@x.test", "12345678")
	e.signIn("u@x.test", "12345678")
	e.signIn("u@x.test", "12345678")
	other := e.user("o@x.test", "12345678")

	if err := e.auth.RevokeOtherSessions(ctx, v); err != nil {
		t.Fatal(err)
	}
	if e.countSessions(v.User.ID()) != 1 {
		t.Fatal("others survive")
	}
	e.view(v.Session.Token())
	e.signIn("u@x.test", "12345678")
	if err := e.auth.RevokeSessions(ctx, v); err != nil {
		t.Fatal(err)
	}
	if e.countSessions(v.User.ID()) != 0 || e.countSessions(other.User.ID()) != 1 {
		t.Fatal("revoke-sessions hit the wrong sessions")
	}
}

func TestListAccounts(t *testing.T) {
	e := newEnv(t, nil)
	v := e.user("u@x.test", "12345678")
	accs, err := e.auth.ListAccounts(ctx, v)
	if err != nil || len(accs) != 1 || accs[0].ProviderID() != "credential" || accs[0].AccountID() != v.User.ID() {
		t.Fatalf("accounts = %v, %v", accs, err)
	}
}
