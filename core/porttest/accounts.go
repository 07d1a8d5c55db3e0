package porttest

import (
	"context"
	"sync"
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
		{"UpdateWritesEveryFieldButThePassword", accountUpdate},
		{"UpdateMissing", accountUpdateMissing},
		{"SetPasswordComparesAndSets", accountSetPassword},
		{"SetPasswordConcurrentWritersOneWins", accountSetPasswordConcurrent},
		{"ByProviderAccount", accountByProviderAccount},
		{"DeleteOnlyTheUsersOwn", accountDelete},
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

	// NULL to set, then set to NULL again; the password is not Update's.
	full := oauthAccount(u.ID(), at).Record()
	full.ID, full.AccountID, full.ProviderID, full.UpdatedAt = bare.ID(), bare.AccountID(), bare.ProviderID(), at.Add(time.Hour)
	noErr(t, "Update filling every column", a.Accounts.Update(ctx, core.RehydrateAccount(full)))
	full.Password = nil
	got, err := a.Accounts.ListByUser(ctx, u.ID())
	noErr(t, "ListByUser", err)
	sameAccounts(t, "filled account", []core.Account{core.RehydrateAccount(full)}, got)

	cleared := bare.Record()
	cleared.UpdatedAt = at.Add(2 * time.Hour)
	noErr(t, "Update clearing every column", a.Accounts.Update(ctx, core.RehydrateAccount(cleared)))
	got, err = a.Accounts.ListByUser(ctx, u.ID())
	noErr(t, "ListByUser", err)
	sameAccounts(t, "cleared account", []core.Account{core.RehydrateAccount(cleared)}, got)

	// Neither setting nor clearing a password goes through Update.
	cred := newCredential(t, a, u.ID(), at.Add(time.Second))
	for _, pw := range []*string{ptr("salt:" + randID()), nil} {
		r := cred.Record()
		r.Password, r.UpdatedAt = pw, at.Add(3*time.Hour)
		noErr(t, "Update with another password", a.Accounts.Update(ctx, core.RehydrateAccount(r)))
		gotCred, err := a.Accounts.Credential(ctx, u.ID())
		noErr(t, "Credential", err)
		r.Password = cred.Record().Password
		sameAccount(t, "credential after Update", core.RehydrateAccount(r), gotCred)
	}
}

func accountSetPassword(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	u := newUser(t, a, at)
	cred := newCredential(t, a, u.ID(), at)
	old, _ := cred.PasswordHash()
	want := func(what string, hash string, updated time.Time) {
		t.Helper()
		got, err := a.Accounts.Credential(ctx, u.ID())
		noErr(t, "Credential", err)
		r := cred.Record()
		r.Password, r.UpdatedAt = &hash, updated
		sameAccount(t, what, core.RehydrateAccount(r), got)
	}

	for _, stale := range []string{"", "salt:" + randID()} {
		wantErr(t, "SetPassword expecting another hash", a.Accounts.SetPassword(ctx, cred.ID(), stale, "salt:x", at.Add(time.Hour)),
			core.ErrPasswordChanged)
		want("credential after a lost SetPassword", old, at)
	}
	next := "salt:" + randID()
	noErr(t, "SetPassword", a.Accounts.SetPassword(ctx, cred.ID(), old, next, at.Add(time.Hour)))
	want("credential after SetPassword", next, at.Add(time.Hour))
	wantErr(t, "SetPassword expecting the replaced hash", a.Accounts.SetPassword(ctx, cred.ID(), old, "salt:y", at.Add(2*time.Hour)),
		core.ErrPasswordChanged)
	want("credential after a stale SetPassword", next, at.Add(time.Hour))

	// "" expects no password: NULL.
	bare := bareAccount(u.ID(), at)
	noErr(t, "Create bare", a.Accounts.Create(ctx, bare))
	noErr(t, "SetPassword on an account without one", a.Accounts.SetPassword(ctx, bare.ID(), "", "salt:z", at.Add(time.Hour)))
	wantErr(t, "SetPassword expecting none once set", a.Accounts.SetPassword(ctx, bare.ID(), "", "salt:w", at.Add(time.Hour)),
		core.ErrPasswordChanged)

	wantErr(t, "SetPassword of a missing account", a.Accounts.SetPassword(ctx, randID(), "", "salt:v", at), core.ErrAccountNotFound)
}

// accountSetPasswordConcurrent races writers that all checked the same hash,
// each in its own transaction that holds on after the write: exactly one may
// win, and the stored hash must be the winner's.
func accountSetPasswordConcurrent(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	u := newUser(t, a, at)
	cred := newCredential(t, a, u.ID(), at)
	old, _ := cred.PasswordHash()
	const writers = 8
	var (
		wg     sync.WaitGroup
		start  = make(chan struct{})
		errs   [writers]error
		hashes [writers]string
	)
	for i := range writers {
		hashes[i] = "salt:" + randID()
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = a.Tx.WithinTx(ctx, func(ctx context.Context) error {
				if err := a.Accounts.SetPassword(ctx, cred.ID(), old, hashes[i], at.Add(time.Hour)); err != nil {
					return err
				}
				// Still holding the row: the others must wait and then see
				// this hash, not the one they expected.
				_, err := a.Accounts.ListByUser(ctx, u.ID())
				return err
			})
		}()
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("writers %d and %d both replaced hash %q", winner, i, old)
		case err == nil:
			winner = i
		default:
			wantErr(t, "losing SetPassword", err, core.ErrPasswordChanged)
		}
	}
	if winner < 0 {
		t.Fatal("no writer won")
	}
	got, err := a.Accounts.Credential(ctx, u.ID())
	noErr(t, "Credential", err)
	if h, _ := got.PasswordHash(); h != hashes[winner] {
		t.Fatalf("stored hash %q, want the winner's %q", h, hashes[winner])
	}
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

func accountByProviderAccount(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	u, other := newUser(t, a, at), newUser(t, a, at)
	acc := oauthAccount(u.ID(), at)
	noErr(t, "Create", a.Accounts.Create(ctx, acc))
	// The same subject at another provider, and another subject at the same
	// provider, are other accounts.
	r := acc.Record()
	r.ID, r.UserID, r.ProviderID = randID(), other.ID(), "gitlab"
	noErr(t, "Create same subject elsewhere", a.Accounts.Create(ctx, core.RehydrateAccount(r)))
	noErr(t, "Create another subject", a.Accounts.Create(ctx, oauthAccount(other.ID(), at)))

	got, err := a.Accounts.ByProviderAccount(ctx, "github", acc.AccountID())
	noErr(t, "ByProviderAccount", err)
	sameAccount(t, "ByProviderAccount", acc, got)
	_, err = a.Accounts.ByProviderAccount(ctx, "github", randID())
	wantErr(t, "ByProviderAccount of an unknown subject", err, core.ErrAccountNotFound)
	_, err = a.Accounts.ByProviderAccount(ctx, "GitHub", acc.AccountID())
	wantErr(t, "ByProviderAccount matches the provider exactly", err, core.ErrAccountNotFound)
}

func accountDelete(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	u, other := newUser(t, a, at), newUser(t, a, at)
	acc, keep := oauthAccount(u.ID(), at), bareAccount(u.ID(), at.Add(time.Second))
	noErr(t, "Create", a.Accounts.Create(ctx, acc))
	noErr(t, "Create", a.Accounts.Create(ctx, keep))

	wantErr(t, "Delete another user's account", a.Accounts.Delete(ctx, other.ID(), acc.ID()), core.ErrAccountNotFound)
	noErr(t, "Delete", a.Accounts.Delete(ctx, u.ID(), acc.ID()))
	wantErr(t, "Delete twice", a.Accounts.Delete(ctx, u.ID(), acc.ID()), core.ErrAccountNotFound)
	got, err := a.Accounts.ListByUser(ctx, u.ID())
	noErr(t, "ListByUser", err)
	sameAccounts(t, "accounts after Delete", []core.Account{keep}, got)
}
