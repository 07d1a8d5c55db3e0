package porttest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/core"
	"github.com/authd/authd/core/twofactor"
)

// RunTwoFactors checks twofactor.Repository (core/twofactor).
func RunTwoFactors(t *testing.T, newAdapters func(*testing.T) Adapters) {
	runGroup(t, newAdapters, func(a Adapters) []string {
		return nilPorts(a, "Users", "Sessions", "TwoFactors")
	}, []testCase{
		{"PutInsertsThenOverwritesKeepingIDAndCounters", testTwoFactorPut},
		{"PutForUnknownUserIsUserNotFound", testTwoFactorPutUnknownUser},
		{"ByUserWithoutRowIsNotFound", testTwoFactorByUserNotFound},
		{"SwapBackupCodesOnlyWhileUnchanged", testTwoFactorSwap},
		{"ConcurrentSwapsOfOneListOneWins", testTwoFactorSwapRace},
		{"ConcurrentFailuresAllCountAndLockAtMax", testTwoFactorFailures},
		{"ExpiredLockClearsOnlyAfterExpiry", testTwoFactorClearLock},
		{"UserFlagIsReadEverywhereAndSurvivesUserUpdate", testTwoFactorUserFlag},
		{"DeleteByUserAndUserDeletionRemoveTheRow", testTwoFactorDelete},
	})
}

func putTwoFactor(t *testing.T, a Adapters, userID string, verified bool) twofactor.Record {
	t.Helper()
	rec := twofactor.Record{ID: randID(), UserID: userID, Secret: "s-" + randID(), BackupCodes: "b-" + randID(), Verified: verified}
	if err := a.TwoFactors.Put(t.Context(), rec); err != nil {
		t.Fatalf("Put: %v", err)
	}
	return rec
}

func byUser(t *testing.T, a Adapters, userID string) twofactor.Record {
	t.Helper()
	got, err := a.TwoFactors.ByUser(t.Context(), userID)
	if err != nil {
		t.Fatalf("ByUser: %v", err)
	}
	return got
}

func testTwoFactorPut(t *testing.T, a Adapters) {
	ctx := t.Context()
	u := newUser(t, a, now())
	rec := putTwoFactor(t, a, u.ID(), false)
	got := byUser(t, a, u.ID())
	if got.ID != rec.ID || got.UserID != u.ID() || got.Secret != rec.Secret || got.BackupCodes != rec.BackupCodes ||
		got.Verified || got.FailedCount != 0 || got.LockedUntil != nil {
		t.Fatalf("ByUser = %+v, want %+v with no failures", got, rec)
	}
	if err := a.TwoFactors.AddFailure(ctx, rec.ID, 10, now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	next := twofactor.Record{ID: rec.ID, UserID: u.ID(), Secret: "s2", BackupCodes: "b2", Verified: false}
	if err := a.TwoFactors.Put(ctx, next); err != nil {
		t.Fatal(err)
	}
	got = byUser(t, a, u.ID())
	if got.ID != rec.ID || got.Secret != "s2" || got.BackupCodes != "b2" || got.FailedCount != 1 {
		t.Errorf("after overwrite: %+v", got)
	}
	if err := a.TwoFactors.SetVerified(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	if err := a.TwoFactors.SetBackupCodes(ctx, rec.ID, "b3"); err != nil {
		t.Fatal(err)
	}
	if got = byUser(t, a, u.ID()); !got.Verified || got.BackupCodes != "b3" {
		t.Errorf("after SetVerified and SetBackupCodes: %+v", got)
	}
}

func testTwoFactorPutUnknownUser(t *testing.T, a Adapters) {
	err := a.TwoFactors.Put(t.Context(), twofactor.Record{ID: randID(), UserID: randID(), Secret: "s", BackupCodes: "b"})
	if !errors.Is(err, core.ErrUserNotFound) {
		t.Errorf("Put for an unknown user: %v, want ErrUserNotFound", err)
	}
}

func testTwoFactorByUserNotFound(t *testing.T, a Adapters) {
	u := newUser(t, a, now())
	if _, err := a.TwoFactors.ByUser(t.Context(), u.ID()); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("ByUser without a row: %v, want ErrNotFound", err)
	}
}

func testTwoFactorSwap(t *testing.T, a Adapters) {
	ctx := t.Context()
	u := newUser(t, a, now())
	rec := putTwoFactor(t, a, u.ID(), true)
	if ok, err := a.TwoFactors.SwapBackupCodes(ctx, rec.ID, "not-the-codes", "x"); err != nil || ok {
		t.Errorf("swap from a stale list = %v, %v; want false", ok, err)
	}
	if ok, err := a.TwoFactors.SwapBackupCodes(ctx, rec.ID, rec.BackupCodes, "next"); err != nil || !ok {
		t.Errorf("swap from the stored list = %v, %v; want true", ok, err)
	}
	if got := byUser(t, a, u.ID()); got.BackupCodes != "next" {
		t.Errorf("backup codes = %q, want next", got.BackupCodes)
	}
}

func testTwoFactorSwapRace(t *testing.T, a Adapters) {
	u := newUser(t, a, now())
	rec := putTwoFactor(t, a, u.ID(), true)
	const n = 8
	var wg sync.WaitGroup
	wins := make(chan string, n)
	for i := range n {
		wg.Go(func() {
			next := "next-" + string(rune('a'+i))
			ok, err := a.TwoFactors.SwapBackupCodes(t.Context(), rec.ID, rec.BackupCodes, next)
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins <- next
			}
		})
	}
	wg.Wait()
	close(wins)
	var won []string
	for w := range wins {
		won = append(won, w)
	}
	if len(won) != 1 {
		t.Fatalf("%d swaps from one list succeeded, want 1", len(won))
	}
	if got := byUser(t, a, u.ID()); got.BackupCodes != won[0] {
		t.Errorf("stored %q, want the winner's %q", got.BackupCodes, won[0])
	}
}

func testTwoFactorFailures(t *testing.T, a Adapters) {
	ctx := t.Context()
	u := newUser(t, a, now())
	rec := putTwoFactor(t, a, u.ID(), true)
	lockUntil := now().Add(15 * time.Minute)
	var wg sync.WaitGroup
	for range 9 {
		wg.Go(func() {
			if err := a.TwoFactors.AddFailure(ctx, rec.ID, 10, lockUntil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := byUser(t, a, u.ID()); got.FailedCount != 9 || got.LockedUntil != nil {
		t.Fatalf("after 9 failures: count %d, lock %v; want 9 and none", got.FailedCount, got.LockedUntil)
	}
	if err := a.TwoFactors.AddFailure(ctx, rec.ID, 10, lockUntil); err != nil {
		t.Fatal(err)
	}
	got := byUser(t, a, u.ID())
	if got.FailedCount != 10 || got.LockedUntil == nil || !got.LockedUntil.Equal(lockUntil) {
		t.Fatalf("after 10 failures: count %d, lock %v; want 10 and %v", got.FailedCount, got.LockedUntil, lockUntil)
	}
	if err := a.TwoFactors.ResetFailures(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	if got := byUser(t, a, u.ID()); got.FailedCount != 0 || got.LockedUntil != nil {
		t.Errorf("after reset: %+v", got)
	}
}

func testTwoFactorClearLock(t *testing.T, a Adapters) {
	ctx := t.Context()
	u := newUser(t, a, now())
	rec := putTwoFactor(t, a, u.ID(), true)
	lockUntil := now().Add(time.Minute)
	if err := a.TwoFactors.AddFailure(ctx, rec.ID, 1, lockUntil); err != nil {
		t.Fatal(err)
	}
	if err := a.TwoFactors.ClearExpiredLock(ctx, rec.ID, lockUntil.Add(-time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if got := byUser(t, a, u.ID()); got.LockedUntil == nil || got.FailedCount != 1 {
		t.Fatalf("a running lock was cleared: %+v", got)
	}
	if err := a.TwoFactors.ClearExpiredLock(ctx, rec.ID, lockUntil); err != nil {
		t.Fatal(err)
	}
	if got := byUser(t, a, u.ID()); got.LockedUntil != nil || got.FailedCount != 0 {
		t.Errorf("an expired lock stayed: %+v", got)
	}
}

func testTwoFactorUserFlag(t *testing.T, a Adapters) {
	ctx := t.Context()
	u := newUser(t, a, now())
	s := newSession(t, a, u.ID(), now())
	at := now().Add(time.Second)
	if err := a.TwoFactors.SetUserEnabled(ctx, u.ID(), true, at); err != nil {
		t.Fatal(err)
	}
	got, err := a.Users.ByID(ctx, u.ID())
	if err != nil || !got.TwoFactorEnabled() || !got.UpdatedAt().Equal(at) {
		t.Fatalf("ByID after SetUserEnabled: flag %t, updatedAt %v, %v", got.TwoFactorEnabled(), got.UpdatedAt(), err)
	}
	if got, err = a.Users.ByEmail(ctx, u.Email()); err != nil || !got.TwoFactorEnabled() {
		t.Errorf("ByEmail: flag %t, %v", got.TwoFactorEnabled(), err)
	}
	if _, su, err := a.Sessions.ByToken(ctx, s.Token()); err != nil || !su.TwoFactorEnabled() {
		t.Errorf("Sessions.ByToken's user: flag %t, %v", su.TwoFactorEnabled(), err)
	}
	// u was read before the flag was set: a profile edit from it must not
	// turn two-factor off.
	u.Rename("Renamed", now())
	if err := a.Users.Update(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got, _ = a.Users.ByID(ctx, u.ID()); !got.TwoFactorEnabled() || got.Name() != "Renamed" {
		t.Errorf("after Users.Update from a stale user: flag %t, name %q", got.TwoFactorEnabled(), got.Name())
	}
	if err := a.TwoFactors.SetUserEnabled(ctx, randID(), true, at); !errors.Is(err, core.ErrUserNotFound) {
		t.Errorf("SetUserEnabled for an unknown user: %v, want ErrUserNotFound", err)
	}
}

func testTwoFactorDelete(t *testing.T, a Adapters) {
	ctx := t.Context()
	u := newUser(t, a, now())
	putTwoFactor(t, a, u.ID(), true)
	if err := a.TwoFactors.DeleteByUser(ctx, u.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.TwoFactors.ByUser(ctx, u.ID()); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("after DeleteByUser: %v", err)
	}
	putTwoFactor(t, a, u.ID(), true)
	if err := a.Users.Delete(ctx, u.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.TwoFactors.ByUser(ctx, u.ID()); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("after the user's deletion: %v", err)
	}
}
