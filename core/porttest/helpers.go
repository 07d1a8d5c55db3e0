package porttest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/core"
)

// ancient is the era of the DeleteExpired cases. No other case writes rows
// that expire before the year 2000, so those cases can assert exact counts
// while sharing a store with the rest of the group.
var ancient = time.Date(2001, 2, 3, 4, 5, 6, 7_000_000, time.UTC)

func now() time.Time { return core.SystemClock{}.Now() }

// randID returns a fresh mixed-case identifier, like better-auth's ids and
// tokens; mixed case also exposes stores that compare tokens case-blind.
func randID() string {
	s := rand.Text()
	return strings.ToLower(s[:13]) + s[13:]
}

func randEmail() string { return "u-" + strings.ToLower(rand.Text()) + "@example.com" }

func ptr[T any](v T) *T { return &v }

func newUser(t *testing.T, a Adapters, at time.Time) core.User {
	t.Helper()
	u, err := core.NewUser(randID(), "Test User", randEmail(), nil, at)
	if err != nil {
		t.Fatalf("NewUser: %v", err)
	}
	if err := a.Users.Create(t.Context(), u); err != nil {
		t.Fatalf("Users.Create: %v", err)
	}
	return u
}

func newSession(t *testing.T, a Adapters, userID string, createdAt time.Time) core.Session {
	t.Helper()
	s, err := core.NewSession(randID(), randID(), userID, createdAt, 7*24*time.Hour, "203.0.113.7", "porttest/1.0")
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	if err := a.Sessions.Create(t.Context(), s); err != nil {
		t.Fatalf("Sessions.Create: %v", err)
	}
	return s
}

func newCredential(t *testing.T, a Adapters, userID string, at time.Time) core.Account {
	t.Helper()
	acc, err := core.NewCredentialAccount(randID(), userID, "salt:"+randID(), at)
	if err != nil {
		t.Fatalf("NewCredentialAccount: %v", err)
	}
	if err := a.Accounts.Create(t.Context(), acc); err != nil {
		t.Fatalf("Accounts.Create: %v", err)
	}
	return acc
}

func newVerification(t *testing.T, a Adapters, identifier string, createdAt time.Time, ttl time.Duration) core.Verification {
	t.Helper()
	v, err := core.NewVerification(randID(), identifier, randID(), createdAt, ttl)
	if err != nil {
		t.Fatalf("NewVerification: %v", err)
	}
	if err := a.Verifications.Create(t.Context(), v); err != nil {
		t.Fatalf("Verifications.Create: %v", err)
	}
	return v
}

// wantErr fails unless err matches target by errors.Is, the only way callers
// in core inspect repository errors.
func wantErr(t *testing.T, op string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", op, err, target)
	}
}

func noErr(t *testing.T, op string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
}

// sameRecord compares two storage records field by field: times with Equal
// (a store may hand back another location), pointers by nil-ness and value.
// Walking the struct means a field added to a record is checked without
// touching the suite.
func sameRecord(t *testing.T, what string, want, got any) {
	t.Helper()
	wv, gv := reflect.ValueOf(want), reflect.ValueOf(got)
	if wv.Type() != gv.Type() {
		t.Fatalf("%s: comparing %s with %s", what, wv.Type(), gv.Type())
	}
	var diffs []string
	for i := range wv.NumField() {
		if !sameValue(wv.Field(i), gv.Field(i)) {
			diffs = append(diffs, fmt.Sprintf("%s: got %s, want %s",
				wv.Type().Field(i).Name, show(gv.Field(i)), show(wv.Field(i))))
		}
	}
	if len(diffs) > 0 {
		t.Fatalf("%s differs:\n  %s", what, strings.Join(diffs, "\n  "))
	}
}

func sameValue(w, g reflect.Value) bool {
	if w.Kind() == reflect.Pointer {
		if w.IsNil() || g.IsNil() {
			return w.IsNil() == g.IsNil()
		}
		return sameValue(w.Elem(), g.Elem())
	}
	if wt, ok := w.Interface().(time.Time); ok {
		return wt.Equal(g.Interface().(time.Time))
	}
	return w.Interface() == g.Interface()
}

func show(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "nil"
		}
		return "&" + show(v.Elem())
	}
	return fmt.Sprintf("%q", fmt.Sprint(v.Interface()))
}

func sameUser(t *testing.T, what string, want, got core.User) {
	t.Helper()
	sameRecord(t, what, want.Record(), got.Record())
}

func sameSession(t *testing.T, what string, want, got core.Session) {
	t.Helper()
	sameRecord(t, what, want.Record(), got.Record())
}

func sameAccount(t *testing.T, what string, want, got core.Account) {
	t.Helper()
	sameRecord(t, what, want.Record(), got.Record())
}

func sameVerification(t *testing.T, what string, want, got core.Verification) {
	t.Helper()
	sameRecord(t, what, want.Record(), got.Record())
}

func sameSessions(t *testing.T, what string, want, got []core.Session) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d sessions, want %d", what, len(got), len(want))
	}
	for i := range want {
		sameSession(t, fmt.Sprintf("%s[%d]", what, i), want[i], got[i])
	}
}

func sameAccounts(t *testing.T, what string, want, got []core.Account) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d accounts, want %d", what, len(got), len(want))
	}
	for i := range want {
		sameAccount(t, fmt.Sprintf("%s[%d]", what, i), want[i], got[i])
	}
}
