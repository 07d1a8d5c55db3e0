package verifier

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// IntrospectConfig configures an Introspector.
type IntrospectConfig struct {
	// BaseURL is the auth routes' base, e.g. https://id.example.com/api/auth.
	BaseURL string
	// TTL is how long an answer is reused for the same credential: 5 s by
	// default. A revoked session is refused at most this long after.
	TTL time.Duration
	// MaxEntries bounds the cache: 10 000 by default.
	MaxEntries int
	Client     *http.Client // a client with a 5 s timeout by default
	Now        func() time.Time
}

// Session is get-session's answer.
type Session struct {
	Session struct {
		ID        string    `json:"id"`
		UserID    string    `json:"userId"`
		ExpiresAt time.Time `json:"expiresAt"`
	} `json:"session"`
	User User `json:"user"`
}

// ErrNoSession means the auth server knows no live session for the
// credential (or none was sent).
var ErrNoSession = errors.New("verifier: no session")

// ErrAuthUnavailable means the auth server could not be asked.
var ErrAuthUnavailable = errors.New("verifier: auth server unavailable")

// maxSessionBytes bounds get-session's answer.
const maxSessionBytes = 64 << 10

// Introspector asks the auth server whom a request's session cookie or
// bearer session token belongs to, for services that must refuse a revoked
// session at once. It forwards only the Cookie and Authorization headers.
// (A JWT from /token is not a session credential: better-auth's bearer
// plugin refuses it, and so does authd.)
type Introspector struct {
	cfg     IntrospectConfig
	url     string
	mu      sync.Mutex
	entries map[[32]byte]entry
}

type entry struct {
	s       *Session // nil: no session
	expires time.Time
}

func NewIntrospector(cfg IntrospectConfig) (*Introspector, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("verifier: BaseURL must be an absolute http(s) URL (got %q)", cfg.BaseURL)
	}
	if cfg.TTL == 0 {
		cfg.TTL = 5 * time.Second
	}
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = 10_000
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 5 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// disableRefresh: a lookup on the user's behalf must not slide the
	// session, since the refreshed cookie would never reach the user.
	return &Introspector{cfg: cfg, url: strings.TrimRight(cfg.BaseURL, "/") + "/get-session?disableRefresh=true",
		entries: map[[32]byte]entry{}}, nil
}

// Session returns the session of r's credentials, from the cache when the
// same credentials were asked about less than TTL ago.
func (i *Introspector) Session(ctx context.Context, r *http.Request) (*Session, error) {
	cookie, authz := r.Header.Get("Cookie"), r.Header.Get("Authorization")
	if cookie == "" && authz == "" {
		return nil, ErrNoSession
	}
	// The cache is keyed by a digest, so that it holds no credentials.
	k := sha256.Sum256([]byte(cookie + "\x00" + authz))
	now := i.cfg.Now()
	i.mu.Lock()
	e, hit := i.entries[k]
	i.mu.Unlock()
	if !hit || !now.Before(e.expires) {
		s, err := i.ask(ctx, cookie, authz)
		if err != nil {
			return nil, err
		}
		e = entry{s: s, expires: now.Add(i.cfg.TTL)}
		i.store(k, e, now)
	}
	if e.s == nil {
		return nil, ErrNoSession
	}
	return e.s, nil
}

func (i *Introspector) store(k [32]byte, e entry, now time.Time) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if len(i.entries) >= i.cfg.MaxEntries {
		for old, oe := range i.entries {
			if !now.Before(oe.expires) {
				delete(i.entries, old)
			}
		}
		// Still full of live entries: drop arbitrary ones rather than grow.
		for old := range i.entries {
			if len(i.entries) < i.cfg.MaxEntries {
				break
			}
			delete(i.entries, old)
		}
	}
	i.entries[k] = e
}

func (i *Introspector) ask(ctx context.Context, cookie, authz string) (*Session, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, i.url, nil)
	if err != nil {
		return nil, err
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	res, err := i.cfg.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAuthUnavailable, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxSessionBytes+1))
	switch {
	case err != nil || len(body) > maxSessionBytes:
		return nil, fmt.Errorf("%w: reading get-session: %v", ErrAuthUnavailable, err)
	case res.StatusCode == http.StatusUnauthorized:
		return nil, nil
	case res.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: get-session answered %s", ErrAuthUnavailable, res.Status)
	}
	var s *Session
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, fmt.Errorf("%w: get-session's answer: %v", ErrAuthUnavailable, err)
	}
	if s != nil && s.User.ID == "" {
		return nil, fmt.Errorf("%w: get-session answered a session without a user", ErrAuthUnavailable)
	}
	return s, nil
}

type sessionKey struct{}

// WithSession returns ctx carrying s (see SessionFrom).
func WithSession(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// SessionFrom returns the session Introspector.Middleware looked up.
func SessionFrom(ctx context.Context) (*Session, bool) {
	s, ok := ctx.Value(sessionKey{}).(*Session)
	return s, ok
}

// Middleware lets through only requests with a live session and puts it in
// the request context (SessionFrom): 401 without one, 503 when the auth
// server cannot be asked.
func (i *Introspector) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := i.Session(r.Context(), r)
		if err != nil {
			status, body := Refusal(err)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write(body)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithSession(r.Context(), s)))
	})
}
