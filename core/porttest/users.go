package porttest

import (
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/core"
)

// RunUsers checks core.UserRepository, including the cascade of Delete to
// sessions and accounts.
func RunUsers(t *testing.T, newAdapters func(t *testing.T) Adapters) {
	runGroup(t, newAdapters, func(a Adapters) []string { return nilPorts(a, "Users", "Sessions", "Accounts") }, []testCase{
		{"CreateThenGetRoundTrip", userRoundTrip},
		{"ByEmailIgnoresCase", userByEmailIgnoresCase},
		{"CreateDuplicateEmail", userDuplicateEmail},
		{"Missing", userMissing},
		{"UpdateWritesEveryField", userUpdate},
		{"UpdateToTakenEmail", userUpdateTakenEmail},
		{"UpdateDeleted", userUpdateDeleted},
		{"DeleteCascades", userDeleteCascades},
	})
}

func userRoundTrip(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	full := core.RehydrateUser(core.UserRecord{ID: randID(), Name: "Zoë Ångström 🚀", Email: randEmail(),
		EmailVerified: true, Image: ptr("https://example.com/a.png"), CreatedAt: at.Add(-time.Hour), UpdatedAt: at})
	bare, err := core.NewUser(randID(), "", randEmail(), nil, at)
	noErr(t, "NewUser", err)
	for _, u := range []core.User{full, bare} {
		noErr(t, "Create", a.Users.Create(ctx, u))
		got, err := a.Users.ByID(ctx, u.ID())
		noErr(t, "ByID", err)
		sameUser(t, "ByID", u, got)
		got, err = a.Users.ByEmail(ctx, u.Email())
		noErr(t, "ByEmail", err)
		sameUser(t, "ByEmail", u, got)
	}
}

func userByEmailIgnoresCase(t *testing.T, a Adapters) {
	u := newUser(t, a, now())
	local, domain, _ := strings.Cut(u.Email(), "@")
	for _, q := range []string{strings.ToUpper(u.Email()), strings.ToUpper(local[:1]) + local[1:] + "@" + strings.ToUpper(domain)} {
		got, err := a.Users.ByEmail(t.Context(), q)
		noErr(t, "ByEmail("+q+")", err)
		sameUser(t, "ByEmail("+q+")", u, got)
	}
}

func userDuplicateEmail(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	first := newUser(t, a, at)
	for _, email := range []string{first.Email(), strings.ToUpper(first.Email())} {
		dup, err := core.NewUser(randID(), "Other", email, nil, at.Add(time.Second))
		noErr(t, "NewUser", err)
		wantErr(t, "Create with taken email "+email, a.Users.Create(ctx, dup), core.ErrUserExists)
		_, err = a.Users.ByID(ctx, dup.ID())
		wantErr(t, "ByID of rejected user", err, core.ErrUserNotFound)
	}
	got, err := a.Users.ByEmail(ctx, first.Email())
	noErr(t, "ByEmail", err)
	sameUser(t, "user keeping the email", first, got)
}

func userMissing(t *testing.T, a Adapters) {
	ctx := t.Context()
	_, err := a.Users.ByID(ctx, randID())
	wantErr(t, "ByID", err, core.ErrUserNotFound)
	_, err = a.Users.ByEmail(ctx, randEmail())
	wantErr(t, "ByEmail", err, core.ErrUserNotFound)
	ghost, err := core.NewUser(randID(), "Ghost", randEmail(), nil, now())
	noErr(t, "NewUser", err)
	wantErr(t, "Update", a.Users.Update(ctx, ghost), core.ErrUserNotFound)
	_, err = a.Users.ByID(ctx, ghost.ID())
	wantErr(t, "ByID after Update of a missing user", err, core.ErrUserNotFound)
	wantErr(t, "Delete", a.Users.Delete(ctx, randID()), core.ErrUserNotFound)
}

func userUpdate(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	u := newUser(t, a, at)
	oldEmail := u.Email()
	later := at.Add(90 * time.Minute)
	u.Rename("Renamed ✓", later)
	u.SetImage(ptr("https://example.com/new.png"), later)
	noErr(t, "ChangeEmail", u.ChangeEmail(randEmail(), true, later))
	noErr(t, "Update", a.Users.Update(ctx, u))
	got, err := a.Users.ByID(ctx, u.ID())
	noErr(t, "ByID", err)
	sameUser(t, "updated user", u, got)
	got, err = a.Users.ByEmail(ctx, u.Email())
	noErr(t, "ByEmail(new)", err)
	sameUser(t, "ByEmail(new)", u, got)
	_, err = a.Users.ByEmail(ctx, oldEmail)
	wantErr(t, "ByEmail(old)", err, core.ErrUserNotFound)

	// The old address is free again.
	other, err := core.NewUser(randID(), "Other", oldEmail, nil, at)
	noErr(t, "NewUser", err)
	noErr(t, "Create with the released email", a.Users.Create(ctx, other))

	// Optional fields can be cleared again.
	u.SetImage(nil, later.Add(time.Minute))
	noErr(t, "Update clearing image", a.Users.Update(ctx, u))
	got, err = a.Users.ByID(ctx, u.ID())
	noErr(t, "ByID", err)
	sameUser(t, "user with cleared image", u, got)
}

func userUpdateTakenEmail(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	owner, mover := newUser(t, a, at), newUser(t, a, at)
	for _, email := range []string{owner.Email(), strings.ToUpper(owner.Email())} {
		changed := mover
		noErr(t, "ChangeEmail", changed.ChangeEmail(email, false, at.Add(time.Minute)))
		wantErr(t, "Update to taken email "+email, a.Users.Update(ctx, changed), core.ErrUserExists)
	}
	got, err := a.Users.ByID(ctx, mover.ID())
	noErr(t, "ByID", err)
	sameUser(t, "user after rejected update", mover, got)
	got, err = a.Users.ByEmail(ctx, owner.Email())
	noErr(t, "ByEmail", err)
	sameUser(t, "owner of the email", owner, got)
}

func userUpdateDeleted(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	u := newUser(t, a, at)
	noErr(t, "Delete", a.Users.Delete(ctx, u.ID()))
	u.Rename("Back from the dead", at.Add(time.Minute))
	wantErr(t, "Update of a deleted user", a.Users.Update(ctx, u), core.ErrUserNotFound)
	_, err := a.Users.ByID(ctx, u.ID())
	wantErr(t, "ByID after Update of a deleted user", err, core.ErrUserNotFound)
}

func userDeleteCascades(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	doomed, keeper := newUser(t, a, at), newUser(t, a, at)
	s1, s2 := newSession(t, a, doomed.ID(), at), newSession(t, a, doomed.ID(), at.Add(time.Second))
	newCredential(t, a, doomed.ID(), at)
	oauth := core.RehydrateAccount(core.AccountRecord{ID: randID(), UserID: doomed.ID(), AccountID: randID(),
		ProviderID: "github", AccessToken: ptr(randID()), CreatedAt: at, UpdatedAt: at})
	noErr(t, "Accounts.Create", a.Accounts.Create(ctx, oauth))
	keptSession := newSession(t, a, keeper.ID(), at)
	keptAccount := newCredential(t, a, keeper.ID(), at)

	noErr(t, "Delete", a.Users.Delete(ctx, doomed.ID()))

	_, err := a.Users.ByID(ctx, doomed.ID())
	wantErr(t, "ByID", err, core.ErrUserNotFound)
	_, err = a.Users.ByEmail(ctx, doomed.Email())
	wantErr(t, "ByEmail", err, core.ErrUserNotFound)
	for _, s := range []core.Session{s1, s2} {
		_, _, err = a.Sessions.ByToken(ctx, s.Token())
		wantErr(t, "Sessions.ByToken of a deleted user's session", err, core.ErrSessionNotFound)
	}
	sessions, err := a.Sessions.ListByUser(ctx, doomed.ID())
	noErr(t, "Sessions.ListByUser", err)
	sameSessions(t, "sessions of the deleted user", nil, sessions)
	accounts, err := a.Accounts.ListByUser(ctx, doomed.ID())
	noErr(t, "Accounts.ListByUser", err)
	sameAccounts(t, "accounts of the deleted user", nil, accounts)
	_, err = a.Accounts.Credential(ctx, doomed.ID())
	wantErr(t, "Accounts.Credential", err, core.ErrAccountNotFound)
	wantErr(t, "second Delete", a.Users.Delete(ctx, doomed.ID()), core.ErrUserNotFound)

	gotSession, gotUser, err := a.Sessions.ByToken(ctx, keptSession.Token())
	noErr(t, "ByToken of another user's session", err)
	sameSession(t, "other user's session", keptSession, gotSession)
	sameUser(t, "other user", keeper, gotUser)
	gotAccount, err := a.Accounts.Credential(ctx, keeper.ID())
	noErr(t, "Credential of another user", err)
	sameAccount(t, "other user's account", keptAccount, gotAccount)

	// The address is free again.
	again, err := core.NewUser(randID(), "Again", doomed.Email(), nil, at)
	noErr(t, "NewUser", err)
	noErr(t, "Create with the deleted user's email", a.Users.Create(ctx, again))
}
