package porttest

import (
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/core"
)

// RunSessions checks core.SessionRepository.
func RunSessions(t *testing.T, newAdapters func(t *testing.T) Adapters) {
	runGroup(t, newAdapters, func(a Adapters) []string { return nilPorts(a, "Users", "Sessions") }, []testCase{
		{"CreateThenByTokenRoundTrip", sessionRoundTrip},
		{"ByTokenReturnsExpiredSession", sessionByTokenExpired},
		{"ByTokenMissing", sessionByTokenMissing},
		{"CreateForMissingUser", sessionForMissingUser},
		{"CreateDuplicateToken", sessionDuplicateToken},
		{"ListByUserOldestFirst", sessionListByUser},
		{"Update", sessionUpdate},
		{"DeleteByToken", sessionDeleteByToken},
		{"DeleteByUser", sessionDeleteByUser},
		{"DeleteExpired", sessionDeleteExpired},
	})
}

func sessionRoundTrip(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	u := newUser(t, a, at)
	full := core.RehydrateSession(core.SessionRecord{ID: randID(), Token: randID(), UserID: u.ID(),
		ExpiresAt: at.Add(7 * 24 * time.Hour), IPAddress: "2001:db8::1", UserAgent: "Mozilla/5.0 (X11; Linux) ünïcode",
		CreatedAt: at.Add(-time.Hour), UpdatedAt: at})
	// A session created without client details keeps empty strings.
	bare, err := core.NewSession(randID(), randID(), u.ID(), at, time.Hour, "", "")
	noErr(t, "NewSession", err)
	for _, s := range []core.Session{full, bare} {
		noErr(t, "Create", a.Sessions.Create(ctx, s))
		gotS, gotU, err := a.Sessions.ByToken(ctx, s.Token())
		noErr(t, "ByToken", err)
		sameSession(t, "session", s, gotS)
		sameUser(t, "session user", u, gotU)
	}
}

// The repository has no clock: expiry is the caller's check.
func sessionByTokenExpired(t *testing.T, a Adapters) {
	at := now()
	u := newUser(t, a, at)
	s := newSession(t, a, u.ID(), at.Add(-8*24*time.Hour))
	if !s.Expired(at) {
		t.Fatal("test session should have expired")
	}
	got, _, err := a.Sessions.ByToken(t.Context(), s.Token())
	noErr(t, "ByToken", err)
	sameSession(t, "expired session", s, got)
}

func sessionByTokenMissing(t *testing.T, a Adapters) {
	ctx := t.Context()
	_, _, err := a.Sessions.ByToken(ctx, randID())
	wantErr(t, "ByToken of an unknown token", err, core.ErrSessionNotFound)
	// Tokens are case-sensitive secrets.
	s := newSession(t, a, newUser(t, a, now()).ID(), now())
	for _, q := range []string{strings.ToUpper(s.Token()), strings.ToLower(s.Token())} {
		_, _, err = a.Sessions.ByToken(ctx, q)
		wantErr(t, "ByToken with the token's case changed", err, core.ErrSessionNotFound)
	}
}

func sessionForMissingUser(t *testing.T, a Adapters) {
	ctx := t.Context()
	s, err := core.NewSession(randID(), randID(), randID(), now(), time.Hour, "", "")
	noErr(t, "NewSession", err)
	wantErr(t, "Create", a.Sessions.Create(ctx, s), core.ErrUserNotFound)
	_, _, err = a.Sessions.ByToken(ctx, s.Token())
	wantErr(t, "ByToken of the rejected session", err, core.ErrSessionNotFound)
}

func sessionDuplicateToken(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	u, other := newUser(t, a, at), newUser(t, a, at)
	first := newSession(t, a, u.ID(), at)
	for _, owner := range []string{u.ID(), other.ID()} {
		dup, err := core.NewSession(randID(), first.Token(), owner, at.Add(time.Second), 2*time.Hour, "", "")
		noErr(t, "NewSession", err)
		wantErr(t, "Create with a taken token", a.Sessions.Create(ctx, dup), core.ErrDuplicate)
	}
	got, gotU, err := a.Sessions.ByToken(ctx, first.Token())
	noErr(t, "ByToken", err)
	sameSession(t, "session keeping the token", first, got)
	sameUser(t, "its user", u, gotU)
	list, err := a.Sessions.ListByUser(ctx, other.ID())
	noErr(t, "ListByUser", err)
	sameSessions(t, "sessions of the other user", nil, list)
}

func sessionListByUser(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	u, other := newUser(t, a, at), newUser(t, a, at)
	// Inserted out of order, so that insertion order cannot pass for age.
	s2 := newSession(t, a, u.ID(), at.Add(2*time.Second))
	s0 := newSession(t, a, u.ID(), at)
	newSession(t, a, other.ID(), at.Add(time.Second))
	s1 := newSession(t, a, u.ID(), at.Add(time.Second))
	got, err := a.Sessions.ListByUser(ctx, u.ID())
	noErr(t, "ListByUser", err)
	sameSessions(t, "ListByUser", []core.Session{s0, s1, s2}, got)

	got, err = a.Sessions.ListByUser(ctx, randID())
	noErr(t, "ListByUser of an unknown user", err)
	sameSessions(t, "ListByUser of an unknown user", nil, got)
}

func sessionUpdate(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	u := newUser(t, a, at)
	s := newSession(t, a, u.ID(), at)
	s.Extend(at.Add(25*time.Hour), 7*24*time.Hour)
	noErr(t, "Update", a.Sessions.Update(ctx, s))
	got, _, err := a.Sessions.ByToken(ctx, s.Token())
	noErr(t, "ByToken", err)
	sameSession(t, "extended session", s, got)

	never, err := core.NewSession(randID(), randID(), u.ID(), at, time.Hour, "", "")
	noErr(t, "NewSession", err)
	wantErr(t, "Update of a session never created", a.Sessions.Update(ctx, never), core.ErrSessionNotFound)

	existed, err := a.Sessions.DeleteByToken(ctx, s.Token())
	noErr(t, "DeleteByToken", err)
	if !existed {
		t.Fatal("DeleteByToken: existed = false for a stored session")
	}
	s.Extend(at.Add(26*time.Hour), 7*24*time.Hour)
	wantErr(t, "Update of a deleted session", a.Sessions.Update(ctx, s), core.ErrSessionNotFound)
	_, _, err = a.Sessions.ByToken(ctx, s.Token())
	wantErr(t, "ByToken after Update of a deleted session", err, core.ErrSessionNotFound)
}

func sessionDeleteByToken(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	u := newUser(t, a, at)
	gone, kept := newSession(t, a, u.ID(), at), newSession(t, a, u.ID(), at.Add(time.Second))
	existed, err := a.Sessions.DeleteByToken(ctx, gone.Token())
	noErr(t, "DeleteByToken", err)
	if !existed {
		t.Fatal("DeleteByToken: existed = false for a stored session")
	}
	_, _, err = a.Sessions.ByToken(ctx, gone.Token())
	wantErr(t, "ByToken of a deleted session", err, core.ErrSessionNotFound)
	existed, err = a.Sessions.DeleteByToken(ctx, gone.Token())
	noErr(t, "second DeleteByToken", err)
	if existed {
		t.Fatal("second DeleteByToken: existed = true")
	}
	existed, err = a.Sessions.DeleteByToken(ctx, randID())
	noErr(t, "DeleteByToken of an unknown token", err)
	if existed {
		t.Fatal("DeleteByToken of an unknown token: existed = true")
	}
	list, err := a.Sessions.ListByUser(ctx, u.ID())
	noErr(t, "ListByUser", err)
	sameSessions(t, "remaining sessions", []core.Session{kept}, list)
}

func sessionDeleteByUser(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	u, other := newUser(t, a, at), newUser(t, a, at)
	s0 := newSession(t, a, u.ID(), at)
	current := newSession(t, a, u.ID(), at.Add(time.Second))
	newSession(t, a, u.ID(), at.Add(2*time.Second))
	otherS := newSession(t, a, other.ID(), at)

	n, err := a.Sessions.DeleteByUser(ctx, u.ID(), current.Token())
	noErr(t, "DeleteByUser keeping the current session", err)
	if n != 2 {
		t.Fatalf("DeleteByUser keeping one of 3: removed %d, want 2", n)
	}
	list, err := a.Sessions.ListByUser(ctx, u.ID())
	noErr(t, "ListByUser", err)
	sameSessions(t, "sessions left", []core.Session{current}, list)
	_, _, err = a.Sessions.ByToken(ctx, s0.Token())
	wantErr(t, "ByToken of a revoked session", err, core.ErrSessionNotFound)

	// Another user's token as the exception protects nothing of this user's
	// and touches nothing of the other's.
	n, err = a.Sessions.DeleteByUser(ctx, u.ID(), otherS.Token())
	noErr(t, "DeleteByUser excepting a foreign token", err)
	if n != 1 {
		t.Fatalf("DeleteByUser excepting a foreign token: removed %d, want 1", n)
	}
	list, err = a.Sessions.ListByUser(ctx, u.ID())
	noErr(t, "ListByUser", err)
	sameSessions(t, "sessions left", nil, list)

	n, err = a.Sessions.DeleteByUser(ctx, u.ID(), "")
	noErr(t, "DeleteByUser with nothing left", err)
	if n != 0 {
		t.Fatalf("DeleteByUser with nothing left: removed %d, want 0", n)
	}
	list, err = a.Sessions.ListByUser(ctx, other.ID())
	noErr(t, "ListByUser of the other user", err)
	sameSessions(t, "other user's sessions", []core.Session{otherS}, list)

	n, err = a.Sessions.DeleteByUser(ctx, other.ID(), "")
	noErr(t, "DeleteByUser without exception", err)
	if n != 1 {
		t.Fatalf("DeleteByUser without exception: removed %d, want 1", n)
	}
	list, err = a.Sessions.ListByUser(ctx, other.ID())
	noErr(t, "ListByUser", err)
	sameSessions(t, "sessions after DeleteByUser without exception", nil, list)
}

func sessionDeleteExpired(t *testing.T, a Adapters) {
	ctx := t.Context()
	u := newUser(t, a, ancient.Add(-48*time.Hour))
	mk := func(expiresAt time.Time) core.Session {
		s := core.RehydrateSession(core.SessionRecord{ID: randID(), Token: randID(), UserID: u.ID(), ExpiresAt: expiresAt,
			CreatedAt: expiresAt.Add(-24 * time.Hour), UpdatedAt: expiresAt.Add(-24 * time.Hour)})
		noErr(t, "Create", a.Sessions.Create(ctx, s))
		return s
	}
	gone := []core.Session{mk(ancient.Add(-time.Hour)), mk(ancient.Add(-time.Millisecond))}
	kept := []core.Session{mk(ancient), mk(ancient.Add(time.Hour))}
	// At most limit go per call, until none is left.
	for i, want := range []int{1, 1, 0} {
		n, err := a.Sessions.DeleteExpired(ctx, ancient, 1)
		noErr(t, "DeleteExpired", err)
		if n != want {
			t.Fatalf("DeleteExpired call %d with limit 1: removed %d, want %d", i, n, want)
		}
	}
	for _, s := range gone {
		_, _, err := a.Sessions.ByToken(ctx, s.Token())
		wantErr(t, "ByToken of an expired session", err, core.ErrSessionNotFound)
	}
	list, err := a.Sessions.ListByUser(ctx, u.ID())
	noErr(t, "ListByUser", err)
	sameSessions(t, "sessions expiring at or after the cut-off", kept, list)
}
