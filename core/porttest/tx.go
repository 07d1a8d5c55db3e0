package porttest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authd/authd/core"
)

// RunTx checks core.Transactor together with the repositories it spans.
func RunTx(t *testing.T, newAdapters func(t *testing.T) Adapters) {
	runGroup(t, newAdapters, func(a Adapters) []string {
		return nilPorts(a, "Users", "Sessions", "Accounts", "Verifications", "Tx")
	}, []testCase{
		{"CommitsOnNil", txCommits},
		{"RollsBackEveryWriteOnError", txRollsBack},
		{"RollsBackOnRepositoryError", txRepositoryError},
		{"IsolatedFromConcurrentCalls", txIsolated},
	})
}

var errBoom = errors.New("porttest: fn failed on purpose")

func txCommits(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	u, err := core.NewUser(randID(), "Tx", randEmail(), nil, at)
	noErr(t, "NewUser", err)
	cred, err := core.NewCredentialAccount(randID(), u.ID(), "salt:hash", at)
	noErr(t, "NewCredentialAccount", err)
	s, err := core.NewSession(randID(), randID(), u.ID(), at, time.Hour, "", "")
	noErr(t, "NewSession", err)

	err = a.Tx.WithinTx(ctx, func(ctx context.Context) error {
		if err := a.Users.Create(ctx, u); err != nil {
			return err
		}
		// Later calls in the transaction see its earlier writes: the
		// session and the account need the user row.
		if got, err := a.Users.ByEmail(ctx, u.Email()); err != nil || got.ID() != u.ID() {
			t.Errorf("ByEmail inside the transaction: %v, %v", got.ID(), err)
		}
		if err := a.Accounts.Create(ctx, cred); err != nil {
			return err
		}
		if err := a.Sessions.Create(ctx, s); err != nil {
			return err
		}
		if _, gotU, err := a.Sessions.ByToken(ctx, s.Token()); err != nil || gotU.ID() != u.ID() {
			t.Errorf("ByToken inside the transaction: %v, %v", gotU.ID(), err)
		}
		return nil
	})
	noErr(t, "WithinTx", err)

	gotU, err := a.Users.ByID(ctx, u.ID())
	noErr(t, "ByID after commit", err)
	sameUser(t, "committed user", u, gotU)
	gotA, err := a.Accounts.Credential(ctx, u.ID())
	noErr(t, "Credential after commit", err)
	sameAccount(t, "committed account", cred, gotA)
	gotS, _, err := a.Sessions.ByToken(ctx, s.Token())
	noErr(t, "ByToken after commit", err)
	sameSession(t, "committed session", s, gotS)
}

func txRollsBack(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	old := newUser(t, a, at)
	oldSession := newSession(t, a, old.ID(), at)
	oldVerification := newVerification(t, a, core.ResetPasswordPrefix+randID(), at, time.Hour)
	u, err := core.NewUser(randID(), "Doomed", randEmail(), nil, at)
	noErr(t, "NewUser", err)
	cred, err := core.NewCredentialAccount(randID(), u.ID(), "salt:hash", at)
	noErr(t, "NewCredentialAccount", err)
	s, err := core.NewSession(randID(), randID(), u.ID(), at, time.Hour, "", "")
	noErr(t, "NewSession", err)

	err = a.Tx.WithinTx(ctx, func(ctx context.Context) error {
		renamed := old
		renamed.Rename("Renamed in a failed transaction", at.Add(time.Minute))
		steps := []func() error{
			func() error { return a.Users.Update(ctx, renamed) },
			func() error { _, err := a.Sessions.DeleteByToken(ctx, oldSession.Token()); return err },
			func() error { _, err := a.Verifications.Consume(ctx, oldVerification.Identifier()); return err },
			func() error { return a.Users.Create(ctx, u) },
			func() error { return a.Accounts.Create(ctx, cred) },
			func() error { return a.Sessions.Create(ctx, s) },
		}
		for _, step := range steps {
			if err := step(); err != nil {
				t.Errorf("write inside the transaction: %v", err)
				return err
			}
		}
		if _, err := a.Users.ByID(ctx, u.ID()); err != nil {
			t.Errorf("ByID inside the transaction: %v", err)
		}
		return errBoom
	})
	wantErr(t, "WithinTx", err, errBoom)

	_, err = a.Users.ByID(ctx, u.ID())
	wantErr(t, "ByID of a rolled-back user", err, core.ErrUserNotFound)
	_, err = a.Users.ByEmail(ctx, u.Email())
	wantErr(t, "ByEmail of a rolled-back user", err, core.ErrUserNotFound)
	_, err = a.Accounts.Credential(ctx, u.ID())
	wantErr(t, "Credential of a rolled-back user", err, core.ErrAccountNotFound)
	accounts, err := a.Accounts.ListByUser(ctx, u.ID())
	noErr(t, "Accounts.ListByUser", err)
	sameAccounts(t, "rolled-back accounts", nil, accounts)
	_, _, err = a.Sessions.ByToken(ctx, s.Token())
	wantErr(t, "ByToken of a rolled-back session", err, core.ErrSessionNotFound)

	gotOld, err := a.Users.ByID(ctx, old.ID())
	noErr(t, "ByID of the updated user", err)
	sameUser(t, "user after a rolled-back update", old, gotOld)
	gotS, _, err := a.Sessions.ByToken(ctx, oldSession.Token())
	noErr(t, "ByToken of the deleted session", err)
	sameSession(t, "session after a rolled-back delete", oldSession, gotS)
	gotV, err := a.Verifications.Latest(ctx, oldVerification.Identifier())
	noErr(t, "Latest of the consumed row", err)
	sameVerification(t, "row after a rolled-back Consume", oldVerification, gotV)

	// Nothing of the rolled-back user lingers, not even its email's claim.
	noErr(t, "Create with the rolled-back user's email", a.Users.Create(ctx, u))
}

// Sign-up's shape: the first insert succeeds, the second fails, and the
// error from the repository aborts the whole transaction.
func txRepositoryError(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	taken := newUser(t, a, at)
	first, err := core.NewUser(randID(), "First", randEmail(), nil, at)
	noErr(t, "NewUser", err)
	second, err := core.NewUser(randID(), "Second", taken.Email(), nil, at)
	noErr(t, "NewUser", err)
	err = a.Tx.WithinTx(ctx, func(ctx context.Context) error {
		if err := a.Users.Create(ctx, first); err != nil {
			t.Errorf("Create inside the transaction: %v", err)
			return err
		}
		return a.Users.Create(ctx, second)
	})
	wantErr(t, "WithinTx", err, core.ErrUserExists)
	_, err = a.Users.ByID(ctx, first.ID())
	wantErr(t, "ByID of the user created before the failure", err, core.ErrUserNotFound)
}

// Calls made outside a transaction while it runs neither see its writes nor
// lose their own when it rolls back. A store may serve them at once or make
// them wait for the transaction; both are correct.
func txIsolated(t *testing.T, a Adapters) {
	outer, at := t.Context(), now()
	inTx, err := core.NewUser(randID(), "In tx", randEmail(), nil, at)
	noErr(t, "NewUser", err)
	outside, err := core.NewUser(randID(), "Outside", randEmail(), nil, at)
	noErr(t, "NewUser", err)
	readErr, writeErr := make(chan error, 1), make(chan error, 1)

	err = a.Tx.WithinTx(outer, func(ctx context.Context) error {
		if err := a.Users.Create(ctx, inTx); err != nil {
			t.Errorf("Create inside the transaction: %v", err)
			return err
		}
		go func() { _, err := a.Users.ByID(outer, inTx.ID()); readErr <- err }()
		go func() { writeErr <- a.Users.Create(outer, outside) }()
		// Give the outside calls time to run while the transaction is open.
		time.Sleep(50 * time.Millisecond)
		return errBoom
	})
	wantErr(t, "WithinTx", err, errBoom)
	wantErr(t, "ByID from outside of a write not yet committed", <-readErr, core.ErrUserNotFound)
	noErr(t, "Create outside the transaction", <-writeErr)
	got, err := a.Users.ByID(outer, outside.ID())
	noErr(t, "ByID of the user created outside the rolled-back transaction", err)
	sameUser(t, "user created outside", outside, got)
	_, err = a.Users.ByID(outer, inTx.ID())
	wantErr(t, "ByID of the rolled-back user", err, core.ErrUserNotFound)
}
