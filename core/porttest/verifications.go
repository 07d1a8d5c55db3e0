package porttest

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/core"
)

// RunVerifications checks core.VerificationRepository, including the
// single-use guarantee of Consume under concurrency.
func RunVerifications(t *testing.T, newAdapters func(t *testing.T) Adapters) {
	runGroup(t, newAdapters, func(a Adapters) []string { return nilPorts(a, "Verifications") }, []testCase{
		{"LatestReturnsNewest", verificationLatest},
		{"Missing", verificationMissing},
		{"ConsumeDeletesEveryRow", verificationConsume},
		{"ConcurrentConsumeHasOneWinner", verificationConcurrentConsume},
		{"DeleteExpired", verificationDeleteExpired},
	})
}

func verificationLatest(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	id := core.ResetPasswordPrefix + randID()
	// Inserted out of order; the newest row has already expired, and Latest
	// returns it all the same. A newer row under a longer identifier must
	// not be taken for a match.
	newVerification(t, a, id, at.Add(-2*time.Hour), time.Hour)
	newest := newVerification(t, a, id, at.Add(-time.Hour), 30*time.Minute)
	newVerification(t, a, id, at.Add(-3*time.Hour), time.Hour)
	newVerification(t, a, id+"x", at, time.Hour)
	if !newest.Expired(at) {
		t.Fatal("test row should have expired")
	}
	got, err := a.Verifications.Latest(ctx, id)
	noErr(t, "Latest", err)
	sameVerification(t, "Latest", newest, got)
}

func verificationMissing(t *testing.T, a Adapters) {
	ctx := t.Context()
	_, err := a.Verifications.Latest(ctx, randID())
	wantErr(t, "Latest of an unknown identifier", err, core.ErrVerificationNotFound)
	_, err = a.Verifications.Consume(ctx, randID())
	wantErr(t, "Consume of an unknown identifier", err, core.ErrVerificationNotFound)

	// Identifiers carry case-sensitive tokens.
	id := core.ResetPasswordPrefix + randID()
	v := newVerification(t, a, id, now(), time.Hour)
	for _, q := range []string{strings.ToUpper(id), strings.ToLower(id)} {
		_, err = a.Verifications.Latest(ctx, q)
		wantErr(t, "Latest with the identifier's case changed", err, core.ErrVerificationNotFound)
		_, err = a.Verifications.Consume(ctx, q)
		wantErr(t, "Consume with the identifier's case changed", err, core.ErrVerificationNotFound)
	}
	got, err := a.Verifications.Latest(ctx, id)
	noErr(t, "Latest", err)
	sameVerification(t, "row after lookups with another case", v, got)
}

func verificationConsume(t *testing.T, a Adapters) {
	ctx, at := t.Context(), now()
	id, otherID := core.DeleteAccountPrefix+randID(), core.DeleteAccountPrefix+randID()
	newVerification(t, a, id, at, time.Hour)
	newest := newVerification(t, a, id, at.Add(2*time.Second), time.Hour)
	newVerification(t, a, id, at.Add(time.Second), time.Hour)
	other := newVerification(t, a, otherID, at, time.Hour)

	got, err := a.Verifications.Consume(ctx, id)
	noErr(t, "Consume", err)
	sameVerification(t, "Consume", newest, got)
	_, err = a.Verifications.Latest(ctx, id)
	wantErr(t, "Latest after Consume", err, core.ErrVerificationNotFound)
	_, err = a.Verifications.Consume(ctx, id)
	wantErr(t, "second Consume", err, core.ErrVerificationNotFound)

	got, err = a.Verifications.Latest(ctx, otherID)
	noErr(t, "Latest of another identifier", err)
	sameVerification(t, "other identifier's row", other, got)
}

// A reset token must be redeemable once, however many requests race for it.
func verificationConcurrentConsume(t *testing.T, a Adapters) {
	const callers = 16
	ctx, at := t.Context(), now()
	id := core.ResetPasswordPrefix + randID()
	newVerification(t, a, id, at, time.Hour)
	newest := newVerification(t, a, id, at.Add(time.Second), time.Hour)

	start := make(chan struct{})
	var wg sync.WaitGroup
	wins := make([]core.Verification, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			<-start
			wins[i], errs[i] = a.Verifications.Consume(ctx, id)
		})
	}
	close(start)
	wg.Wait()

	winners := 0
	for i, err := range errs {
		switch {
		case err == nil:
			winners++
			sameVerification(t, "row won by Consume", newest, wins[i])
		case !errors.Is(err, core.ErrVerificationNotFound):
			t.Fatalf("Consume #%d: got error %v, want %v", i, err, core.ErrVerificationNotFound)
		}
	}
	if winners != 1 {
		t.Fatalf("%d of %d concurrent Consume calls succeeded, want exactly 1", winners, callers)
	}
	_, err := a.Verifications.Latest(ctx, id)
	wantErr(t, "Latest after the race", err, core.ErrVerificationNotFound)
}

func verificationDeleteExpired(t *testing.T, a Adapters) {
	ctx := t.Context()
	mk := func(expiresAt time.Time) core.Verification {
		v := core.RehydrateVerification(core.VerificationRecord{ID: randID(), Identifier: randID(), Value: randID(),
			ExpiresAt: expiresAt, CreatedAt: expiresAt.Add(-time.Hour), UpdatedAt: expiresAt.Add(-time.Hour)})
		noErr(t, "Create", a.Verifications.Create(ctx, v))
		return v
	}
	gone := []core.Verification{mk(ancient.Add(-time.Hour)), mk(ancient.Add(-time.Millisecond))}
	kept := []core.Verification{mk(ancient), mk(ancient.Add(time.Hour))}
	// At most limit go per call, until none is left.
	n, err := a.Verifications.DeleteExpired(ctx, ancient, 1)
	noErr(t, "DeleteExpired", err)
	if n != 1 {
		t.Fatalf("DeleteExpired with limit 1: removed %d, want 1", n)
	}
	n, err = a.Verifications.DeleteExpired(ctx, ancient, 10)
	noErr(t, "DeleteExpired", err)
	if n != len(gone)-1 {
		t.Fatalf("DeleteExpired with limit 10: removed %d, want %d", n, len(gone)-1)
	}
	for _, v := range gone {
		_, err := a.Verifications.Latest(ctx, v.Identifier())
		wantErr(t, "Latest of an expired row", err, core.ErrVerificationNotFound)
	}
	for _, v := range kept {
		got, err := a.Verifications.Latest(ctx, v.Identifier())
		noErr(t, "Latest of a row expiring at or after the cut-off", err)
		sameVerification(t, "kept row", v, got)
	}
}
