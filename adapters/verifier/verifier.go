// Package verifier lets a Go service trust the JWTs that authd (or
// better-auth's jwt plugin) issues from GET /token and in the set-auth-jwt
// header, without sharing cookies or the database: it fetches the issuer's
// JWKS, caches it, follows key rotation by kid, accepts only the pinned
// asymmetric algorithms (never "none", never an HMAC keyed with a public
// key), and checks exp, nbf and iat with a clock-skew allowance, the issuer
// and the audience.
//
// A JWT stays valid until it expires (15 minutes by default) even if its
// session is revoked. Services that must see revocations at once use
// Introspector, which asks the auth server's /get-session (with a short
// cache) on the caller's own cookie or bearer session token.
//
// Middleware for net/http is here; fiberverifier has the Fiber version.
// JOSE parsing and signature checks are go-jose (maintained; its parser
// takes the list of accepted algorithms up front).
package verifier

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Config says whom to trust. JWKSURL, Issuer and Audience are required.
type Config struct {
	// JWKSURL is the issuer's key set, e.g.
	// https://id.example.com/api/auth/jwks.
	JWKSURL string
	// Issuer must equal the iss claim (authd: AUTH_JWT_ISSUER, by default
	// the auth server's origin).
	Issuer string
	// Audience: the aud claim must contain one of these (authd:
	// AUTH_JWT_AUDIENCE, by default the auth server's origin).
	Audience []string
	// Algorithms accepted in the JWS header: EdDSA by default. Only
	// asymmetric algorithms are allowed.
	Algorithms []string
	// Leeway absorbs clock differences in exp, nbf and iat: 30 s by default.
	Leeway time.Duration
	// Refresh is how long a fetched key set is used before it is fetched
	// again: 10 minutes by default.
	Refresh time.Duration
	// MinRefetch spaces fetches caused by unknown kids (a rotation, or a
	// client sending garbage): at most one per MinRefetch, 30 s by default.
	MinRefetch time.Duration
	// Client fetches the key set: a client with a 10 s timeout by default.
	Client *http.Client
	// Now is the clock: time.Now by default.
	Now func() time.Time
}

// maxJWKSBytes bounds the key set read from the network.
const maxJWKSBytes = 1 << 20

// Errors. Every refusal of a token wraps ErrInvalidToken; ErrKeysUnavailable
// means the key set could not be fetched and the token's key is not cached,
// which says nothing about the token (answer 503, not 401).
var (
	ErrInvalidToken    = errors.New("verifier: invalid token")
	ErrKeysUnavailable = errors.New("verifier: key set unavailable")
)

// User is the session's user as better-auth puts it in the token.
type User struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Email         string    `json:"email"`
	EmailVerified bool      `json:"emailVerified"`
	Image         *string   `json:"image"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
}

// Claims is a verified token.
type Claims struct {
	Subject   string
	Issuer    string
	Audience  []string
	IssuedAt  time.Time
	Expiry    time.Time
	User      User
	KeyID     string
	Algorithm string
	// Raw is the payload, for claims of your own (better-auth's
	// jwt.definePayload).
	Raw json.RawMessage
}

// Verifier checks tokens. It is safe for concurrent use.
type Verifier struct {
	cfg  Config
	algs []jose.SignatureAlgorithm

	keys atomic.Pointer[keySet]
	// fetchMu lets one fetch run at a time; callers that waited reuse it.
	fetchMu sync.Mutex
}

type keySet struct {
	byID      map[string]jose.JSONWebKey
	fetchedAt time.Time // zero: never fetched successfully
	triedAt   time.Time // last attempt, successful or not
}

// New checks cfg and fills in its defaults. It does not fetch: the first
// Verify does.
func New(cfg Config) (*Verifier, error) {
	u, err := url.Parse(cfg.JWKSURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("verifier: JWKSURL must be an absolute http(s) URL (got %q)", cfg.JWKSURL)
	}
	if cfg.Issuer == "" || len(cfg.Audience) == 0 || slices.Contains(cfg.Audience, "") {
		return nil, errors.New("verifier: Issuer and a non-empty Audience are required")
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = []string{string(jose.EdDSA)}
	}
	v := &Verifier{cfg: cfg}
	for _, a := range cfg.Algorithms {
		if keyTypeOf(jose.SignatureAlgorithm(a)) == "" {
			return nil, fmt.Errorf("verifier: algorithm %q is not an asymmetric JWS algorithm", a)
		}
		v.algs = append(v.algs, jose.SignatureAlgorithm(a))
	}
	if v.cfg.Leeway == 0 {
		v.cfg.Leeway = 30 * time.Second
	}
	if v.cfg.Refresh == 0 {
		v.cfg.Refresh = 10 * time.Minute
	}
	if v.cfg.MinRefetch == 0 {
		v.cfg.MinRefetch = 30 * time.Second
	}
	if v.cfg.Client == nil {
		v.cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if v.cfg.Now == nil {
		v.cfg.Now = time.Now
	}
	v.keys.Store(&keySet{})
	return v, nil
}

// keyTypeOf is the key family an algorithm needs; "" for algorithms that
// are refused (none, HMAC).
func keyTypeOf(alg jose.SignatureAlgorithm) string {
	switch alg {
	case jose.EdDSA:
		return "OKP"
	case jose.ES256, jose.ES384, jose.ES512:
		return "EC"
	case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
		return "RSA"
	}
	return ""
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidToken}, args...)...)
}

// Verify checks token and returns its claims.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	tok, err := jwt.ParseSigned(token, v.algs)
	if err != nil {
		return nil, invalid("%v", err)
	}
	if len(tok.Headers) != 1 {
		return nil, invalid("want one signature")
	}
	h := tok.Headers[0]
	if h.KeyID == "" {
		return nil, invalid("no kid")
	}
	key, err := v.key(ctx, h.KeyID)
	if err != nil {
		return nil, err
	}
	alg := jose.SignatureAlgorithm(h.Algorithm)
	// The JWK pins its algorithm when it names one, and its type always
	// must fit: an RSA key is never used for EdDSA, or the reverse.
	if (key.Algorithm != "" && key.Algorithm != h.Algorithm) || !fits(key.Key, alg) {
		return nil, invalid("key %s does not take %s", h.KeyID, h.Algorithm)
	}
	var std jwt.Claims
	var user User
	var raw json.RawMessage
	if err := tok.Claims(key.Key, &std, &user, &raw); err != nil {
		return nil, invalid("%v", err)
	}
	if std.Expiry == nil || std.Subject == "" {
		return nil, invalid("exp and sub are required")
	}
	err = std.ValidateWithLeeway(jwt.Expected{Issuer: v.cfg.Issuer, AnyAudience: v.cfg.Audience, Time: v.cfg.Now()}, v.cfg.Leeway)
	if err != nil {
		return nil, invalid("%v", err)
	}
	c := &Claims{Subject: std.Subject, Issuer: std.Issuer, Audience: std.Audience, Expiry: std.Expiry.Time(),
		User: user, KeyID: h.KeyID, Algorithm: h.Algorithm, Raw: raw}
	if std.IssuedAt != nil {
		c.IssuedAt = std.IssuedAt.Time()
	}
	return c, nil
}

func fits(key any, alg jose.SignatureAlgorithm) bool {
	switch key.(type) {
	case ed25519.PublicKey:
		return keyTypeOf(alg) == "OKP"
	case *ecdsa.PublicKey:
		return keyTypeOf(alg) == "EC"
	case *rsa.PublicKey:
		return keyTypeOf(alg) == "RSA"
	}
	return false
}

// key returns the public key kid. The key set is fetched again when it is
// older than Refresh, or when kid is unknown; either at most once per
// MinRefetch, so that neither an outage nor made-up kids turn every request
// into a fetch. A failed fetch leaves the keys already known in use.
func (v *Verifier) key(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	now := v.cfg.Now()
	ks := v.keys.Load()
	k, ok := ks.byID[kid]
	fresh := !ks.fetchedAt.IsZero() && now.Sub(ks.fetchedAt) < v.cfg.Refresh
	recentTry := !ks.triedAt.IsZero() && now.Sub(ks.triedAt) < v.cfg.MinRefetch
	switch {
	case ok && (fresh || recentTry):
		return k, nil
	case !ok && recentTry && ks.fetchedAt.IsZero():
		return jose.JSONWebKey{}, fmt.Errorf("%w: the last fetch failed", ErrKeysUnavailable)
	case !ok && recentTry:
		return jose.JSONWebKey{}, invalid("unknown key %q", kid)
	}
	ks, err := v.refetch(ctx, ks)
	if k, ok := ks.byID[kid]; ok {
		return k, nil
	}
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	return jose.JSONWebKey{}, invalid("unknown key %q", kid)
}

// refetch fetches the key set unless another caller did since seen was
// loaded.
func (v *Verifier) refetch(ctx context.Context, seen *keySet) (*keySet, error) {
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	if cur := v.keys.Load(); cur != seen {
		return cur, nil
	}
	now := v.cfg.Now()
	byID, err := v.fetch(ctx)
	next := &keySet{byID: seen.byID, fetchedAt: seen.fetchedAt, triedAt: now}
	if err == nil {
		next.byID, next.fetchedAt = byID, now
	}
	v.keys.Store(next)
	return next, err
}

func (v *Verifier) fetch(ctx context.Context) (map[string]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.cfg.JWKSURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeysUnavailable, err)
	}
	req.Header.Set("Accept", "application/json")
	res, err := v.cfg.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeysUnavailable, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s answered %s", ErrKeysUnavailable, v.cfg.JWKSURL, res.Status)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxJWKSBytes+1))
	if err != nil || len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("%w: reading the key set: %v", ErrKeysUnavailable, err)
	}
	// Keys are read one by one so that one key of a kind go-jose does not
	// know cannot hide the others.
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("%w: not a key set: %v", ErrKeysUnavailable, err)
	}
	byID := make(map[string]jose.JSONWebKey, len(set.Keys))
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if k.UnmarshalJSON(raw) != nil || k.KeyID == "" || !k.IsPublic() || (k.Use != "" && k.Use != "sig") {
			continue
		}
		byID[k.KeyID] = k
	}
	return byID, nil
}

// BearerToken returns the token of an "Authorization: Bearer <token>"
// header (the scheme in any letter case), or "".
func BearerToken(h http.Header) string {
	scheme, tok, ok := strings.Cut(h.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

type claimsKey struct{}

// WithClaims returns ctx carrying c; the middlewares put the caller's
// claims there.
func WithClaims(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// ClaimsFrom returns the claims the middleware verified for this request.
func ClaimsFrom(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok
}

// Middleware lets through only requests with a valid bearer JWT and puts
// its claims in the request context (ClaimsFrom). It answers 401 with
// WWW-Authenticate for a missing or bad token, 503 when the key set cannot
// be fetched.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := v.Verify(r.Context(), BearerToken(r.Header))
		if err != nil {
			status, body := Refusal(err)
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write(body)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithClaims(r.Context(), c)))
	})
}

// Refusal maps an error of Verify or Introspector.Session to the status
// and JSON body the middlewares send, in better-auth's error shape: 503 when
// the key set or the auth server could not be reached, else 401. The cause
// is not sent.
func Refusal(err error) (int, []byte) {
	if errors.Is(err, ErrKeysUnavailable) || errors.Is(err, ErrAuthUnavailable) {
		return http.StatusServiceUnavailable, []byte(`{"code":"SERVICE_UNAVAILABLE","message":"Service temporarily unavailable"}`)
	}
	return http.StatusUnauthorized, []byte(`{"code":"UNAUTHORIZED","message":"Unauthorized"}`)
}
