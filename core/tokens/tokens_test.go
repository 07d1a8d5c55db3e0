package tokens_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/core"
	"github.com/authd/authd/core/tokens"
)

// keyStore is a KeyRepository in a map that counts reads; one instance
// shared by two services stands for a database shared by two servers.
type keyStore struct {
	mu    sync.Mutex
	keys  []tokens.Key
	lists int
	fail  error
}

func (r *keyStore) Create(_ context.Context, k tokens.Key) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range r.keys {
		if o.ID == k.ID {
			return core.ErrDuplicate
		}
	}
	r.keys = append(r.keys, k)
	return nil
}

func (r *keyStore) List(context.Context) ([]tokens.Key, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lists++
	if r.fail != nil {
		return nil, r.fail
	}
	return append([]tokens.Key(nil), r.keys...), nil
}

func (r *keyStore) count() (keys, lists int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.keys), r.lists
}

// fakeCrypto "signs" as kid + "|" + payload, which lets the tests read the
// chosen key and the claims; a private key "broken" cannot be opened.
type fakeCrypto struct{}

func (fakeCrypto) Generate(alg string) (string, string, string, error) {
	return `{"kty":"OKP"}`, "sealed", "Ed25519", nil
}

func (fakeCrypto) Signer(k tokens.Key, alg string) (tokens.Signer, error) {
	if k.PrivateKey == "broken" {
		return nil, errors.New("message authentication failed")
	}
	return signer(k.ID), nil
}

type signer string

func (s signer) Sign(p []byte) (string, error) { return string(s) + "|" + string(p), nil }

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 891_000_000, time.UTC)

func newService(r *keyStore, clock core.Clock, tune func(*tokens.Options)) *tokens.Service {
	o := tokens.DefaultOptions("https://id.example.com", "https://api.example.com")
	if tune != nil {
		tune(&o)
	}
	return tokens.New(tokens.Deps{Keys: r, Crypto: fakeCrypto{}, Clock: clock, Random: rand.Reader}, o)
}

func view(t *testing.T) core.SessionView {
	t.Helper()
	u, err := core.NewUser("user-1", "Ada", "Ada@Example.com", nil, t0.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	s, err := core.NewSession("sess-1", "tok-1", u.ID(), t0, time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return core.SessionView{Session: s, User: u}
}

// token returns the id of the key that signed and the claims.
func token(t *testing.T, s *tokens.Service, v core.SessionView) (string, map[string]any) {
	t.Helper()
	out, err := s.Token(t.Context(), v)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	kid, payload, _ := strings.Cut(out, "|")
	var c map[string]any
	if err := json.Unmarshal([]byte(payload), &c); err != nil {
		t.Fatal(err)
	}
	return kid, c
}

func TestTokenClaimsAreBetterAuths(t *testing.T) {
	s := newService(&keyStore{}, &core.FixedClock{T: t0}, nil)
	out, err := s.Token(t.Context(), view(t))
	if err != nil {
		t.Fatal(err)
	}
	_, payload, _ := strings.Cut(out, "|")
	iat := t0.Unix()
	want := `{"iat":` + jsonNum(iat) + `,"id":"user-1","name":"Ada","email":"ada@example.com","emailVerified":false,` +
		`"image":null,"createdAt":"2026-03-04T04:06:07.891Z","updatedAt":"2026-03-04T04:06:07.891Z","sub":"user-1",` +
		`"exp":` + jsonNum(iat+900) + `,"iss":"https://id.example.com","aud":"https://api.example.com"}`
	if payload != want {
		t.Errorf("payload\n got %s\nwant %s", payload, want)
	}
}

// With the twoFactor plugin on, the session user (and so the token) carries
// twoFactorEnabled after updatedAt.
func TestTwoFactorClaim(t *testing.T) {
	s := newService(&keyStore{}, &core.FixedClock{T: t0}, func(o *tokens.Options) { o.TwoFactor = true })
	out, err := s.Token(t.Context(), view(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, payload, _ := strings.Cut(out, "|"); !strings.Contains(payload, `"updatedAt":"2026-03-04T04:06:07.891Z","twoFactorEnabled":false,"sub"`) {
		t.Errorf("payload %s", payload)
	}
}

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestExpirationOption(t *testing.T) {
	s := newService(&keyStore{}, &core.FixedClock{T: t0}, func(o *tokens.Options) { o.Expiration = 90 * time.Second })
	_, c := token(t, s, view(t))
	if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat != 90 {
		t.Errorf("exp - iat = %v, want 90", exp-iat)
	}
}

func TestFirstKeyIsMadeOnFirstUseAndThenReused(t *testing.T) {
	r := &keyStore{}
	s := newService(r, &core.FixedClock{T: t0}, nil)
	if n, lists := r.count(); n != 0 || lists != 0 {
		t.Fatalf("New touched the table: %d keys, %d reads", n, lists)
	}
	kid1, _ := token(t, s, view(t))
	kid2, _ := token(t, s, view(t))
	if n, _ := r.count(); n != 1 || kid1 != kid2 {
		t.Fatalf("%d keys after two tokens, signed by %q and %q; want one key", n, kid1, kid2)
	}
	k := r.keys[0]
	if len(k.ID) != 32 || strings.Trim(k.ID, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
		t.Errorf("key id %q: want 32 alphanumerics", k.ID)
	}
	if k.Alg != "EdDSA" || k.Crv != "Ed25519" || k.ExpiresAt != nil || !k.CreatedAt.Equal(t0) {
		t.Errorf("key row %+v", k)
	}
}

func TestPublicKeysMakesTheFirstKeyOnAnEmptyTable(t *testing.T) {
	r := &keyStore{}
	s := newService(r, &core.FixedClock{T: t0}, nil)
	keys, err := s.PublicKeys(t.Context())
	if err != nil || len(keys) != 1 {
		t.Fatalf("PublicKeys = %v, %v; want the one key just made", keys, err)
	}
	if kid, _ := token(t, s, view(t)); kid != keys[0].ID {
		t.Errorf("token signed by %q, want the published key %q", kid, keys[0].ID)
	}
}

func TestConcurrentFirstUseMakesOneKey(t *testing.T) {
	r := &keyStore{}
	s := newService(r, &core.FixedClock{T: t0}, nil)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := s.Token(context.Background(), view(t)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n, _ := r.count(); n != 1 {
		t.Errorf("%d keys made by 16 concurrent first requests, want 1", n)
	}
}

func TestCachedKeysSpareTheTableUntilRefresh(t *testing.T) {
	r := &keyStore{}
	clock := &core.FixedClock{T: t0}
	s := newService(r, clock, nil)
	token(t, s, view(t))
	_, before := r.count()
	for range 10 {
		token(t, s, view(t))
		if _, err := s.PublicKeys(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if _, after := r.count(); after != before {
		t.Errorf("%d table reads for cached tokens and key sets, want 0", after-before)
	}

	// A key another instance makes shows up once the cache is due.
	other := newService(r, clock, func(o *tokens.Options) { o.RotationInterval = time.Hour })
	clock.Advance(time.Second)
	if err := r.Create(t.Context(), tokens.Key{ID: "other-instance-key", PublicKey: "{}", PrivateKey: "sealed",
		CreatedAt: clock.Now(), Alg: "EdDSA"}); err != nil {
		t.Fatal(err)
	}
	if keys, _ := s.PublicKeys(t.Context()); len(keys) != 1 {
		t.Fatalf("the cache showed a new key before Refresh: %d keys", len(keys))
	}
	clock.Advance(time.Minute)
	if keys, _ := s.PublicKeys(t.Context()); len(keys) != 2 {
		t.Fatalf("after Refresh: %d keys, want both", len(keys))
	}
	// Both instances now sign with the newest key.
	if kid, _ := token(t, s, view(t)); kid != "other-instance-key" {
		t.Errorf("signed by %q, want the newest key", kid)
	}
	if kid, _ := token(t, other, view(t)); kid != "other-instance-key" {
		t.Errorf("other instance signed by %q, want the newest key", kid)
	}
}

func TestRotationAndGracePeriod(t *testing.T) {
	r := &keyStore{}
	clock := &core.FixedClock{T: t0}
	s := newService(r, clock, func(o *tokens.Options) { o.RotationInterval = time.Hour; o.GracePeriod = 2 * time.Hour })
	first, _ := token(t, s, view(t))
	if exp := r.keys[0].ExpiresAt; exp == nil || !exp.Equal(t0.Add(time.Hour)) {
		t.Fatalf("expires_at %v, want created_at + 1h", exp)
	}
	clock.Advance(59 * time.Minute)
	if kid, _ := token(t, s, view(t)); kid != first {
		t.Fatalf("rotated before the interval")
	}
	clock.Advance(time.Minute)
	second, _ := token(t, s, view(t))
	if second == first {
		t.Fatal("still signing with the expired key")
	}
	keys, err := s.PublicKeys(t.Context())
	if err != nil || len(keys) != 2 {
		t.Fatalf("within the grace period: %d keys (%v), want both", len(keys), err)
	}
	clock.Advance(2 * time.Hour)
	third, _ := token(t, s, view(t))
	keys, _ = s.PublicKeys(t.Context())
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	if len(keys) != 2 || strings.Contains(strings.Join(ids, ","), first) {
		t.Errorf("after the grace period published %v; want %s and %s but not %s", ids, second, third, first)
	}
}

// An instance whose cached signing key expired finds the key another
// instance already rotated to, rather than making one of its own.
func TestExpiredCacheRereadsBeforeMakingAKey(t *testing.T) {
	r := &keyStore{}
	clock := &core.FixedClock{T: t0}
	rotate := func(o *tokens.Options) { o.RotationInterval = time.Hour; o.Refresh = 24 * time.Hour }
	a, b := newService(r, clock, rotate), newService(r, clock, rotate)
	first, _ := token(t, a, view(t))
	if kid, _ := token(t, b, view(t)); kid != first {
		t.Fatal("the second instance made its own key")
	}
	clock.Advance(time.Hour)
	rotated, _ := token(t, b, view(t))
	if kid, _ := token(t, a, view(t)); kid != rotated {
		t.Errorf("instance a signs with %q, want b's rotated key %q", kid, rotated)
	}
	if n, _ := r.count(); n != 2 {
		t.Errorf("%d keys, want 2", n)
	}
}

func TestSigningPrefersTheDefaultAlgorithm(t *testing.T) {
	r := &keyStore{keys: []tokens.Key{
		{ID: "legacy-null-alg", PublicKey: "{}", PrivateKey: "sealed", CreatedAt: t0.Add(-2 * time.Hour)},
		{ID: "newer-rsa", PublicKey: "{}", PrivateKey: "sealed", CreatedAt: t0.Add(-time.Hour), Alg: "RS256"},
	}}
	s := newService(r, &core.FixedClock{T: t0}, nil)
	if kid, _ := token(t, s, view(t)); kid != "legacy-null-alg" {
		t.Errorf("signed by %q, want the newest EdDSA (or NULL alg) key", kid)
	}
	r2 := &keyStore{keys: r.keys[1:]}
	if kid, _ := token(t, newService(r2, &core.FixedClock{T: t0}, nil), view(t)); kid != "newer-rsa" {
		t.Errorf("signed by %q, want the only live key", kid)
	}
}

func TestUndecryptableKeyFailsWithoutMakingAnother(t *testing.T) {
	r := &keyStore{keys: []tokens.Key{{ID: "k", PublicKey: "{}", PrivateKey: "broken", CreatedAt: t0, Alg: "EdDSA"}}}
	s := newService(r, &core.FixedClock{T: t0}, nil)
	_, err := s.Token(t.Context(), view(t))
	if !errors.Is(err, tokens.ErrKeyUnusable) {
		t.Fatalf("Token = %v, want ErrKeyUnusable", err)
	}
	if n, _ := r.count(); n != 1 {
		t.Errorf("%d keys, want no new one", n)
	}
}

func TestStoreOutageIsReported(t *testing.T) {
	r := &keyStore{fail: core.ErrUnavailable}
	s := newService(r, &core.FixedClock{T: t0}, nil)
	if _, err := s.Token(t.Context(), view(t)); !errors.Is(err, core.ErrUnavailable) {
		t.Errorf("Token = %v, want ErrUnavailable", err)
	}
	if _, err := s.PublicKeys(t.Context()); !errors.Is(err, core.ErrUnavailable) {
		t.Errorf("PublicKeys = %v, want ErrUnavailable", err)
	}
	if n, _ := r.count(); n != 0 {
		t.Errorf("a key was made during an outage")
	}
}

// sharedLock is a TaskLock shared by the services of one test, as Postgres
// advisory locks are by instances on one database; tries counts TryRun calls.
type sharedLock struct {
	mu    sync.Mutex
	held  map[string]bool
	tries atomic.Int32
}

func (l *sharedLock) TryRun(ctx context.Context, name string, fn func(context.Context) error) (bool, error) {
	l.tries.Add(1)
	l.mu.Lock()
	if l.held[name] {
		l.mu.Unlock()
		return false, nil
	}
	l.held[name] = true
	l.mu.Unlock()
	defer func() { l.mu.Lock(); delete(l.held, name); l.mu.Unlock() }()
	return true, fn(ctx)
}

// hookedStore runs hook in the first Create, before the insert; later
// Creates do not wait for it.
type hookedStore struct {
	*keyStore
	first atomic.Bool
	hook  func()
}

func (h *hookedStore) Create(ctx context.Context, k tokens.Key) error {
	if h.first.CompareAndSwap(false, true) {
		h.hook()
	}
	return h.keyStore.Create(ctx, k)
}

// While instance a makes the first key, instance b (its own cache, the same
// store) must wait for that key rather than make one its own: a key made by
// b would be missing from a's cached JWKS until a's next Refresh.
func TestInstancesWaitForTheKeyAnotherIsMaking(t *testing.T) {
	store := &hookedStore{keyStore: &keyStore{}}
	lock := &sharedLock{held: map[string]bool{}}
	clock := &core.FixedClock{T: t0}
	newInstance := func() *tokens.Service {
		return tokens.New(tokens.Deps{Keys: store, Crypto: fakeCrypto{}, Clock: clock, Random: rand.Reader, Lock: lock},
			tokens.DefaultOptions("https://id.example.com", "https://api.example.com"))
	}
	a, b := newInstance(), newInstance()
	var bKid string
	bDone := make(chan struct{})
	store.hook = func() {
		// a holds the lock and is about to insert: b starts now and has
		// to find the lock taken.
		go func() {
			defer close(bDone)
			bKid, _ = token(t, b, view(t))
		}()
		for lock.tries.Load() < 2 {
			select {
			case <-bDone: // b did not wait
				return
			case <-time.After(time.Millisecond):
			}
		}
	}
	aKid, _ := token(t, a, view(t))
	<-bDone
	if n, _ := store.count(); n != 1 || aKid != bKid {
		t.Errorf("%d keys; a signs with %q, b with %q: want one key for both", n, aKid, bKid)
	}
}

type failingLock struct{}

func (failingLock) TryRun(context.Context, string, func(context.Context) error) (bool, error) {
	return false, core.ErrUnavailable
}

func TestLockFailureIsReported(t *testing.T) {
	r := &keyStore{}
	s := tokens.New(tokens.Deps{Keys: r, Crypto: fakeCrypto{}, Clock: &core.FixedClock{T: t0}, Random: rand.Reader,
		Lock: failingLock{}}, tokens.DefaultOptions("i", "a"))
	if _, err := s.Token(t.Context(), view(t)); !errors.Is(err, core.ErrUnavailable) {
		t.Errorf("Token = %v, want ErrUnavailable", err)
	}
	if n, _ := r.count(); n != 0 {
		t.Error("a key was made without the lock")
	}
}
