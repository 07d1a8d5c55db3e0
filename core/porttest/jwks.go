package porttest

import (
	"errors"
	"testing"
	"time"

	"github.com/authd/authd/core"
	"github.com/authd/authd/core/tokens"
)

// RunKeys checks tokens.KeyRepository (table jwks).
func RunKeys(t *testing.T, newAdapters func(t *testing.T) Adapters) {
	runGroup(t, newAdapters, func(a Adapters) []string { return nilPorts(a, "Keys") }, []testCase{
		{"CreateThenList", keysRoundTrip},
		{"DuplicateID", keysDuplicate},
	})
}

func newKey(at time.Time, expires *time.Time, alg, crv string) tokens.Key {
	return tokens.Key{ID: randID(), PublicKey: `{"crv":"Ed25519","x":"` + randID() + `","kty":"OKP"}`,
		PrivateKey: `"` + randID() + `"`, CreatedAt: at, ExpiresAt: expires, Alg: alg, Crv: crv}
}

// keysOf lists the store and picks the keys with the given ids; other
// cases of the group write keys of their own meanwhile.
func keysOf(t *testing.T, a Adapters, ids ...string) map[string]tokens.Key {
	t.Helper()
	all, err := a.Keys.List(t.Context())
	noErr(t, "Keys.List", err)
	out := map[string]tokens.Key{}
	for _, k := range all {
		for _, id := range ids {
			if k.ID == id {
				if _, twice := out[id]; twice {
					t.Fatalf("key %s listed twice", id)
				}
				out[id] = k
			}
		}
	}
	return out
}

func sameKey(t *testing.T, what string, want, got tokens.Key) {
	t.Helper()
	expEq := (want.ExpiresAt == nil) == (got.ExpiresAt == nil) &&
		(want.ExpiresAt == nil || (want.ExpiresAt.Equal(*got.ExpiresAt) && got.ExpiresAt.Location() == time.UTC))
	if got.ID != want.ID || got.PublicKey != want.PublicKey || got.PrivateKey != want.PrivateKey ||
		!got.CreatedAt.Equal(want.CreatedAt) || got.CreatedAt.Location() != time.UTC || !expEq ||
		got.Alg != want.Alg || got.Crv != want.Crv {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func keysRoundTrip(t *testing.T, a Adapters) {
	at := now()
	exp := at.Add(time.Hour)
	plain := newKey(at, nil, "EdDSA", "Ed25519")
	// A row from before the alg and crv columns: both NULL.
	legacy := newKey(at.Add(-time.Hour), &exp, "", "")
	for _, k := range []tokens.Key{plain, legacy} {
		noErr(t, "Keys.Create", a.Keys.Create(t.Context(), k))
	}
	got := keysOf(t, a, plain.ID, legacy.ID)
	sameKey(t, "key without expiry", plain, got[plain.ID])
	sameKey(t, "key with expiry and NULL alg/crv", legacy, got[legacy.ID])
}

func keysDuplicate(t *testing.T, a Adapters) {
	k := newKey(now(), nil, "EdDSA", "Ed25519")
	noErr(t, "Keys.Create", a.Keys.Create(t.Context(), k))
	dup := newKey(now(), nil, "EdDSA", "Ed25519")
	dup.ID = k.ID
	if err := a.Keys.Create(t.Context(), dup); !errors.Is(err, core.ErrDuplicate) {
		t.Errorf("Create with a taken id = %v, want ErrDuplicate", err)
	}
	sameKey(t, "the first key after a duplicate", k, keysOf(t, a, k.ID)[k.ID])
}
