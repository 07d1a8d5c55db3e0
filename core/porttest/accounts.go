package porttest

import (
	"testing"
	"time"

	"github.com/authd/authd/core"
)

// RunAccounts checks core.AccountRepository.
func RunAccounts(t *testing.T, newAdapters func(t *testing.T) Adapters) {
	runGroup(t, newAdapters, func(a Adapters) []string { return nilPorts(a, "Users", "Accounts") }, []testCase{
		{"CreateThenListRoundTrip", accountRoundTrip},
		{"Credential", accountCredential},
		{"CreateForMissingUser", accountForMissingUser},
		{"UpdateWritesEveryField", accountUpdate},
		{"UpdateMissing", accountUpdateMissing},
	})
}

// oauthAccount has every optional column set.
func oauthAccount(userID string, at time.Time) core.Account {
	return core.RehydrateAccount(core.AccountRecord{ID: randID(), UserID: userID, AccountID: randID(), ProviderID: "github",
		AccessToken: ptr("at-" + randID()), RefreshToken: ptr("rt-" + randID()), IDToken: ptr("it-" + randID()),
		AccessTokenExpiresAt: ptr(at.Add(time.Hour)), RefreshTokenExpiresAt: ptr(at.Add(30 * 24 * time.Hour)),
		Scope: ptr("openid,email, profile"), Password: ptr("salt:" + randID()),
		CreatedAt: at, UpdatedAt: at.Add(time.Minute)})
}

// bareAccount has every optional column NULL.
func bareAccount(userID string, at time.Time) core.Account {
	return core.RehydrateAccount(core.AccountRecord{ID: randID(), UserID: userID, AccountID: randID(), ProviderID: "google",
		CreatedAt: at, UpdatedAt: at})
}

func accountRoundTrip(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	u, other := newUser(t, a, at), newUser(t, a, at)
	// Inserted out of order, so that insertion order cannot pass for age.
	full := oauthAccount(u.ID(), at.Add(2*time.Second))
	noErr(t, "Create full", a.Accounts.Create(ctx, full))
	cred := newCredential(t, a, u.ID(), at)
	newCredential(t, a, other.ID(), at.Add(time.Second))
	bare := bareAccount(u.ID(), at.Add(time.Second))
	noErr(t, "Create bare", a.Accounts.Create(ctx, bare))

	got, err := a.Accounts.ListByUser(ctx, u.ID())
	noErr(t, "ListByUser", err)
	sameAccounts(t, "ListByUser", []core.Account{cred, bare, full}, got)

	got, err = a.Accounts.ListByUser(ctx, randID())
	noErr(t, "ListByUser of an unknown user", err)
	sameAccounts(t, "ListByUser of an unknown user", nil, got)
}

func accountCredential(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	u, other := newUser(t, a, at), newUser(t, a, at)
	_, err := a.Accounts.Credential(ctx, u.ID())
	wantErr(t, "Credential with no accounts", err, core.ErrAccountNotFound)

	// Neither of these is the email/password account: one has the user's id
	// as accountId but another provider, the other is a credential row whose
	// accountId is not the user's id.
	lookalikes := []core.AccountRecord{
		{ID: randID(), UserID: u.ID(), AccountID: u.ID(), ProviderID: "github", Password: ptr("x:y"), CreatedAt: at, UpdatedAt: at},
		{ID: randID(), UserID: u.ID(), AccountID: randID(), ProviderID: core.ProviderCredential, Password: ptr("x:y"), CreatedAt: at, UpdatedAt: at},
	}
	for _, r := range lookalikes {
		noErr(t, "Create", a.Accounts.Create(ctx, core.RehydrateAccount(r)))
	}
	newCredential(t, a, other.ID(), at)
	_, err = a.Accounts.Credential(ctx, u.ID())
	wantErr(t, "Credential with only look-alike accounts", err, core.ErrAccountNotFound)

	cred := newCredential(t, a, u.ID(), at.Add(time.Second))
	got, err := a.Accounts.Credential(ctx, u.ID())
	noErr(t, "Credential", err)
	sameAccount(t, "Credential", cred, got)
	if h, ok := got.PasswordHash(); !ok || h == "" {
		t.Fatal("Credential: password hash lost")
	}
}

func accountForMissingUser(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	ghost := randID()
	cred, err := core.NewCredentialAccount(randID(), ghost, "salt:hash", at)
	noErr(t, "NewCredentialAccount", err)
	for _, acc := range []core.Account{cred, oauthAccount(ghost, at)} {
		wantErr(t, "Create for a missing user", a.Accounts.Create(ctx, acc), core.ErrUserNotFound)
	}
	list, err := a.Accounts.ListByUser(ctx, ghost)
	noErr(t, "ListByUser", err)
	sameAccounts(t, "accounts of a missing user", nil, list)
}

func accountUpdate(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	u := newUser(t, a, at)
	bare := bareAccount(u.ID(), at)
	noErr(t, "Create", a.Accounts.Create(ctx, bare))

	// NULL to set, then set to NULL again.
	full := oauthAccount(u.ID(), at).Record()
	full.ID, full.AccountID, full.ProviderID, full.UpdatedAt = bare.ID(), bare.AccountID(), bare.ProviderID(), at.Add(time.Hour)
	filled := core.RehydrateAccount(full)
	noErr(t, "Update filling every column", a.Accounts.Update(ctx, filled))
	got, err := a.Accounts.ListByUser(ctx, u.ID())
	noErr(t, "ListByUser", err)
	sameAccounts(t, "filled account", []core.Account{filled}, got)

	cleared := bare.Record()
	cleared.UpdatedAt = at.Add(2 * time.Hour)
	noErr(t, "Update clearing every column", a.Accounts.Update(ctx, core.RehydrateAccount(cleared)))
	got, err = a.Accounts.ListByUser(ctx, u.ID())
	noErr(t, "ListByUser", err)
	sameAccounts(t, "cleared account", []core.Account{core.RehydrateAccount(cleared)}, got)

	// The password change path.
	cred := newCredential(t, a, u.ID(), at.Add(time.Second))
	cred.SetPasswordHash("salt:"+randID(), at.Add(3*time.Hour))
	noErr(t, "Update password", a.Accounts.Update(ctx, cred))
	gotCred, err := a.Accounts.Credential(ctx, u.ID())
	noErr(t, "Credential", err)
	sameAccount(t, "credential with new password", cred, gotCred)
}

func accountUpdateMissing(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	u := newUser(t, a, at)
	never := oauthAccount(u.ID(), at)
	wantErr(t, "Update of an account never created", a.Accounts.Update(ctx, never), core.ErrAccountNotFound)
	list, err := a.Accounts.ListByUser(ctx, u.ID())
	noErr(t, "ListByUser", err)
	sameAccounts(t, "accounts after Update of a missing one", nil, list)
}
