package verifier_test

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/adapters/verifier"
)

const (
	issuer   = "https://id.example.com"
	audience = "https://api.example.com"
)

var t0 = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

// clock is a settable Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// issuerKey is one Ed25519 key of the fake auth server.
type issuerKey struct {
	kid  string
	priv ed25519.PrivateKey
}

func newKey(t testing.TB, kid string) issuerKey {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return issuerKey{kid: kid, priv: priv}
}

// jwk is the key as better-auth's /jwks lists it.
func (k issuerKey) jwk() map[string]string {
	return map[string]string{"alg": "EdDSA", "crv": "Ed25519", "kty": "OKP", "kid": k.kid,
		"x": base64.RawURLEncoding.EncodeToString(k.priv.Public().(ed25519.PublicKey))}
}

// sign makes a compact JWS with header exactly {alg, kid}, as better-auth does.
func (k issuerKey) sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fakeIssuer serves a JWKS it can change, counting fetches.
type fakeIssuer struct {
	mu      sync.Mutex
	keys    []map[string]string
	status  int
	fetches atomic.Int32
	srv     *httptest.Server
}

func newIssuer(t testing.TB, keys ...issuerKey) *fakeIssuer {
	f := &fakeIssuer{status: http.StatusOK}
	for _, k := range keys {
		f.keys = append(f.keys, k.jwk())
	}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.fetches.Add(1)
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.status != http.StatusOK {
			w.WriteHeader(f.status)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": f.keys})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIssuer) set(status int, keys ...map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.keys = status, keys
}

func newVerifier(t testing.TB, f *fakeIssuer, c *clock, tune func(*verifier.Config)) *verifier.Verifier {
	t.Helper()
	cfg := verifier.Config{JWKSURL: f.srv.URL + "/api/auth/jwks", Issuer: issuer, Audience: []string{audience}, Now: c.Now}
	if tune != nil {
		tune(&cfg)
	}
	v, err := verifier.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// claims are better-auth's /token claims for a user at c's time.
func claims(c *clock) map[string]any {
	iat := c.Now().Unix()
	return map[string]any{"iat": iat, "id": "user-1", "name": "Ada", "email": "ada@example.com",
		"emailVerified": true, "image": nil, "createdAt": "2026-01-02T03:04:05.678Z",
		"updatedAt": "2026-01-02T03:04:05.678Z", "sub": "user-1", "exp": iat + 900, "iss": issuer, "aud": audience}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func TestVerifyAcceptsBetterAuthsToken(t *testing.T) {
	c := &clock{t: t0}
	k := newKey(t, "kid-1")
	v := newVerifier(t, newIssuer(t, k), c, nil)
	got, err := v.Verify(t.Context(), k.sign(t, claims(c)))
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "user-1" || got.Issuer != issuer || len(got.Audience) != 1 || got.Audience[0] != audience ||
		!got.Expiry.Equal(t0.Add(15*time.Minute)) || !got.IssuedAt.Equal(t0) || got.KeyID != "kid-1" || got.Algorithm != "EdDSA" {
		t.Errorf("claims %+v", got)
	}
	u := got.User
	if u.ID != "user-1" || u.Name != "Ada" || u.Email != "ada@example.com" || !u.EmailVerified || u.Image != nil ||
		!u.CreatedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)) {
		t.Errorf("user %+v", u)
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestVerifyRefuses(t *testing.T) {
	c := &clock{t: t0}
	k := newKey(t, "kid-1")
	v := newVerifier(t, newIssuer(t, k), c, nil)
	good := k.sign(t, claims(c))
	parts := strings.Split(good, ".")
	payload, _ := json.Marshal(with(claims(c), "sub", "admin", "id", "admin"))
	pub := k.priv.Public().(ed25519.PublicKey)
	hs256 := func(key []byte) string {
		head := b64(`{"alg":"HS256","kid":"kid-1"}`) + "." + parts[1]
		m := hmac.New(sha256.New, key)
		m.Write([]byte(head))
		return head + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	other := newKey(t, "kid-1") // same kid, another key

	cases := map[string]string{
		"empty":                           "",
		"garbage":                         "not.a.jwt",
		"tampered payload":                parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2],
		"tampered signature":              parts[0] + "." + parts[1] + "." + b64("0123456789012345678901234567890123456789012345678901234567890123"),
		"signed by another key":           other.sign(t, claims(c)),
		"alg none":                        b64(`{"alg":"none","kid":"kid-1"}`) + "." + parts[1] + ".",
		"alg none without signature dot":  b64(`{"alg":"none"}`) + "." + parts[1],
		"HS256 keyed with the public key": hs256(pub),
		"HS256 keyed with the JWK's x":    hs256([]byte(base64.RawURLEncoding.EncodeToString(pub))),
		"another audience":                k.sign(t, with(claims(c), "aud", "https://other.example.com")),
		"audience list without ours":      k.sign(t, with(claims(c), "aud", []string{"a", "b"})),
		"another issuer":                  k.sign(t, with(claims(c), "iss", "https://evil.example.com")),
		"expired":                         k.sign(t, with(claims(c), "exp", t0.Add(-31*time.Second).Unix())),
		"issued in the future":            k.sign(t, with(claims(c), "iat", t0.Add(time.Minute).Unix())),
		"not yet valid":                   k.sign(t, with(claims(c), "nbf", t0.Add(time.Minute).Unix())),
		"without exp":                     k.sign(t, with(claims(c), "exp", nil)),
		"without sub":                     k.sign(t, with(claims(c), "sub", nil)),
		"unknown kid":                     newKey(t, "kid-unknown").sign(t, claims(c)),
	}
	noKid, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: k.priv}, nil)
	p, _ := json.Marshal(claims(c))
	jws, _ := noKid.Sign(p)
	cases["without kid"], _ = jws.CompactSerialize()

	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := v.Verify(t.Context(), tok)
			if !errors.Is(err, verifier.ErrInvalidToken) {
				t.Errorf("Verify = %+v, %v; want ErrInvalidToken", got, err)
			}
		})
	}
}

func TestLeewayAbsorbsClockSkew(t *testing.T) {
	c := &clock{t: t0}
	k := newKey(t, "kid-1")
	v := newVerifier(t, newIssuer(t, k), c, func(cfg *verifier.Config) { cfg.Leeway = 30 * time.Second })
	for name, tok := range map[string]string{
		"expired 29 s ago":          k.sign(t, with(claims(c), "exp", t0.Add(-29*time.Second).Unix())),
		"issued 29 s in the future": k.sign(t, with(claims(c), "iat", t0.Add(29*time.Second).Unix())),
		"audience in a list":        k.sign(t, with(claims(c), "aud", []string{"other", audience})),
	} {
		if _, err := v.Verify(t.Context(), tok); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestKeyRotationFetchesOnUnknownKidAtMostOncePerInterval(t *testing.T) {
	c := &clock{t: t0}
	old, next := newKey(t, "old"), newKey(t, "next")
	f := newIssuer(t, old)
	v := newVerifier(t, f, c, func(cfg *verifier.Config) { cfg.MinRefetch = 30 * time.Second })
	if _, err := v.Verify(t.Context(), old.sign(t, claims(c))); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	f.set(http.StatusOK, old.jwk(), next.jwk())
	if _, err := v.Verify(t.Context(), next.sign(t, claims(c))); err != nil {
		t.Fatalf("token of the rotated-in key: %v", err)
	}
	if n := f.fetches.Load(); n != 2 {
		t.Errorf("%d fetches, want 2 (first use, unknown kid)", n)
	}
	// Made-up kids cannot make the verifier hammer the issuer.
	for i := range 50 {
		_, err := v.Verify(t.Context(), newKey(t, "bogus-"+string(rune('a'+i%26))).sign(t, claims(c)))
		if !errors.Is(err, verifier.ErrInvalidToken) {
			t.Fatalf("made-up kid: %v", err)
		}
	}
	if n := f.fetches.Load(); n != 2 {
		t.Errorf("%d fetches after 50 made-up kids, want still 2", n)
	}
	c.Advance(31 * time.Second)
	if _, err := v.Verify(t.Context(), newKey(t, "bogus").sign(t, claims(c))); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Fatal(err)
	}
	if n := f.fetches.Load(); n != 3 {
		t.Errorf("%d fetches, want one more after MinRefetch", n)
	}
}

func TestKeyRemovedFromTheSetIsRefusedAfterRefresh(t *testing.T) {
	c := &clock{t: t0}
	old, next := newKey(t, "old"), newKey(t, "next")
	f := newIssuer(t, old, next)
	v := newVerifier(t, f, c, func(cfg *verifier.Config) { cfg.Refresh = 10 * time.Minute })
	if _, err := v.Verify(t.Context(), old.sign(t, claims(c))); err != nil {
		t.Fatal(err)
	}
	f.set(http.StatusOK, next.jwk())
	c.Advance(11 * time.Minute)
	if _, err := v.Verify(t.Context(), old.sign(t, claims(c))); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Errorf("token of a withdrawn key: %v, want ErrInvalidToken", err)
	}
}

func TestKeySetOutage(t *testing.T) {
	c := &clock{t: t0}
	k := newKey(t, "kid-1")
	f := newIssuer(t, k)
	f.set(http.StatusInternalServerError)
	v := newVerifier(t, f, c, nil)
	if _, err := v.Verify(t.Context(), k.sign(t, claims(c))); !errors.Is(err, verifier.ErrKeysUnavailable) {
		t.Fatalf("with the issuer down from the start: %v, want ErrKeysUnavailable", err)
	}
	if _, err := v.Verify(t.Context(), k.sign(t, claims(c))); !errors.Is(err, verifier.ErrKeysUnavailable) {
		t.Fatalf("again within MinRefetch: %v, want ErrKeysUnavailable", err)
	}
	if n := f.fetches.Load(); n != 1 {
		t.Errorf("%d fetches, want 1 within MinRefetch", n)
	}
	c.Advance(time.Minute)
	f.set(http.StatusOK, k.jwk())
	if _, err := v.Verify(t.Context(), k.sign(t, claims(c))); err != nil {
		t.Fatalf("after the issuer came back: %v", err)
	}
	// Down again once the set is stale: known keys stay in use.
	f.set(http.StatusServiceUnavailable)
	c.Advance(time.Hour)
	for range 5 {
		if _, err := v.Verify(t.Context(), k.sign(t, claims(c))); err != nil {
			t.Fatalf("known key during an outage: %v", err)
		}
	}
	if n := f.fetches.Load(); n != 3 {
		t.Errorf("%d fetches, want 3 (one retry for the stale set)", n)
	}
}

func TestKeySetEntriesThatCannotSign(t *testing.T) {
	c := &clock{t: t0}
	k := newKey(t, "kid-1")
	f := newIssuer(t)
	withUse := k.jwk()
	withUse["use"] = "enc"
	wrongAlg := k.jwk()
	wrongAlg["alg"] = "ES256"
	for name, entry := range map[string]map[string]string{"use enc": withUse, "alg ES256": wrongAlg} {
		f.set(http.StatusOK, entry, map[string]string{"kty": "weird", "kid": "x"})
		c.Advance(time.Hour)
		v := newVerifier(t, f, c, nil)
		if _, err := v.Verify(t.Context(), k.sign(t, claims(c))); !errors.Is(err, verifier.ErrInvalidToken) {
			t.Errorf("%s: %v, want ErrInvalidToken", name, err)
		}
	}
}

func TestNewRefusesSymmetricAndMissingSettings(t *testing.T) {
	base := verifier.Config{JWKSURL: "https://id.example.com/api/auth/jwks", Issuer: issuer, Audience: []string{audience}}
	for name, tune := range map[string]func(*verifier.Config){
		"HS256":       func(c *verifier.Config) { c.Algorithms = []string{"HS256"} },
		"none":        func(c *verifier.Config) { c.Algorithms = []string{"EdDSA", "none"} },
		"no issuer":   func(c *verifier.Config) { c.Issuer = "" },
		"no audience": func(c *verifier.Config) { c.Audience = nil },
		"bad URL":     func(c *verifier.Config) { c.JWKSURL = "/jwks" },
	} {
		cfg := base
		tune(&cfg)
		if _, err := verifier.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestMiddleware(t *testing.T) {
	c := &clock{t: t0}
	k := newKey(t, "kid-1")
	f := newIssuer(t, k)
	v := newVerifier(t, f, c, nil)
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cl, ok := verifier.ClaimsFrom(r.Context())
		if !ok {
			t.Error("no claims in the context")
			return
		}
		_, _ = w.Write([]byte(cl.User.Email))
	}))
	do := func(authz string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/orders", nil)
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := do("bearer " + k.sign(t, claims(c))); w.Code != 200 || w.Body.String() != "ada@example.com" {
		t.Errorf("valid token: %d %s", w.Code, w.Body)
	}
	for _, authz := range []string{"", "Basic dTpw", "Bearer " + k.sign(t, with(claims(c), "aud", "x"))} {
		w := do(authz)
		if w.Code != 401 || w.Header().Get("WWW-Authenticate") == "" || !strings.Contains(w.Body.String(), "UNAUTHORIZED") {
			t.Errorf("%q: %d %v %s", authz, w.Code, w.Header(), w.Body)
		}
	}
	f.set(http.StatusBadGateway)
	v2 := newVerifier(t, f, c, nil)
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/orders", nil)
	r.Header.Set("Authorization", "Bearer "+k.sign(t, claims(c)))
	v2.Middleware(http.NotFoundHandler()).ServeHTTP(w, r)
	if w.Code != 503 {
		t.Errorf("key set down: %d, want 503", w.Code)
	}
}

func BenchmarkVerify(b *testing.B) {
	c := &clock{t: t0}
	k := newKey(b, "kid-1")
	v := newVerifier(b, newIssuer(b, k), c, nil)
	tok := k.sign(b, claims(c))
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
}
