package porttest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/core"
)

// RunCacheBacklog checks core.CacheBacklog.
func RunCacheBacklog(t *testing.T, newAdapters func(t *testing.T) Adapters) {
	runGroup(t, newAdapters, func(a Adapters) []string {
		return nilPorts(a, "CacheBacklog", "Tx")
	}, []testCase{
		{"AddPendingDone", backlogAddPendingDone},
		{"CommitsWithTheTransaction", backlogInTx},
	})
}

// mine is the backlog as this case sees it: cases share the store and run in
// parallel, so each keeps to the subjects it made.
func mine(t *testing.T, a Adapters, prefix string) []core.CacheEntry {
	t.Helper()
	all, err := a.CacheBacklog.Pending(t.Context(), 100000)
	noErr(t, "Pending", err)
	var out []core.CacheEntry
	for _, e := range all {
		if strings.HasPrefix(e.Subject, prefix) {
			out = append(out, e)
		}
	}
	return out
}

func backlogAddPendingDone(t *testing.T, a Adapters) {
	ctx, p := t.Context(), randID()
	at := now().Truncate(time.Millisecond)
	want := []core.CacheEntry{
		{Kind: core.CacheDropSession, Subject: p + "-token", At: at},
		{Kind: core.CacheRevokeUser, Subject: p + "-user", At: at.Add(time.Second)},
		{Kind: core.CacheEvictUser, Subject: p + "-user", At: at.Add(2 * time.Second)},
	}
	for _, e := range want {
		noErr(t, "Add", a.CacheBacklog.Add(ctx, e))
	}
	got := mine(t, a, p)
	if len(got) != len(want) {
		t.Fatalf("Pending after 3 Adds: %d entries, want 3", len(got))
	}
	for i := range want {
		if got[i].ID == 0 || got[i].Kind != want[i].Kind || got[i].Subject != want[i].Subject || !got[i].At.Equal(want[i].At) {
			t.Errorf("entry %d = %+v, want %+v with an id, oldest first", i, got[i], want[i])
		}
	}
	if first, err := a.CacheBacklog.Pending(ctx, 1); err != nil || len(first) != 1 {
		t.Errorf("Pending(1) = %d entries, %v; want 1", len(first), err)
	}
	noErr(t, "Done", a.CacheBacklog.Done(ctx, []int64{got[0].ID, got[2].ID, -1}))
	left := mine(t, a, p)
	if len(left) != 1 || left[0].ID != got[1].ID {
		t.Fatalf("after Done of the first and last: %+v, want only %+v", left, got[1])
	}
	noErr(t, "Done of nothing", a.CacheBacklog.Done(ctx, nil))
}

// An entry added in a transaction that rolls back is not owed: the
// revocation it stood for did not happen either.
func backlogInTx(t *testing.T, a Adapters) {
	p := randID()
	err := a.Tx.WithinTx(t.Context(), func(ctx context.Context) error {
		noErr(t, "Add in tx", a.CacheBacklog.Add(ctx, core.CacheEntry{Kind: core.CacheDropSession, Subject: p + "-rolled-back", At: now()}))
		return errBoom
	})
	wantErr(t, "WithinTx", err, errBoom)
	noErr(t, "WithinTx", a.Tx.WithinTx(t.Context(), func(ctx context.Context) error {
		return a.CacheBacklog.Add(ctx, core.CacheEntry{Kind: core.CacheDropSession, Subject: p + "-committed", At: now()})
	}))
	got := mine(t, a, p)
	if len(got) != 1 || got[0].Subject != p+"-committed" {
		t.Fatalf("backlog after a rolled back and a committed Add: %+v, want only the committed one", got)
	}
}
