package verifier_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/adapters/verifier"
)

// fakeGetSession answers get-session like authd: the session for cookie
// "good" or bearer "good", null otherwise; status forces an error answer.
type fakeGetSession struct {
	calls  atomic.Int32
	status atomic.Int32
	srv    *httptest.Server
}

func newGetSession(t *testing.T) *fakeGetSession {
	f := &fakeGetSession{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		if r.URL.Path != "/api/auth/get-session" || r.URL.Query().Get("disableRefresh") != "true" {
			t.Errorf("asked %s", r.URL)
		}
		if s := f.status.Load(); s != 0 {
			w.WriteHeader(int(s))
			return
		}
		if r.Header.Get("Cookie") == "better-auth.session_token=good" || r.Header.Get("Authorization") == "Bearer good" {
			_, _ = w.Write([]byte(`{"session":{"id":"s1","userId":"u1","expiresAt":"2026-06-01T00:00:00.000Z","token":"good"},` +
				`"user":{"id":"u1","name":"Ada","email":"ada@example.com","emailVerified":true,"image":null,` +
				`"createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"2026-01-01T00:00:00.000Z"}}`))
			return
		}
		_, _ = w.Write([]byte("null"))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func newIntrospector(t *testing.T, f *fakeGetSession, c *clock) *verifier.Introspector {
	i, err := verifier.NewIntrospector(verifier.IntrospectConfig{BaseURL: f.srv.URL + "/api/auth/", TTL: 5 * time.Second, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func request(cookie, authz string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/orders", nil)
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	return r
}

func TestIntrospectorCachesForTTL(t *testing.T) {
	c := &clock{t: t0}
	f := newGetSession(t)
	i := newIntrospector(t, f, c)
	for _, r := range []*http.Request{request("better-auth.session_token=good", ""), request("", "Bearer good")} {
		s, err := i.Session(t.Context(), r)
		if err != nil || s.User.Email != "ada@example.com" || s.Session.UserID != "u1" {
			t.Fatalf("Session = %+v, %v", s, err)
		}
	}
	calls := f.calls.Load()
	c.Advance(4 * time.Second)
	if _, err := i.Session(t.Context(), request("better-auth.session_token=good", "")); err != nil {
		t.Fatal(err)
	}
	if f.calls.Load() != calls {
		t.Errorf("asked again within the TTL")
	}
	c.Advance(time.Second)
	if _, err := i.Session(t.Context(), request("better-auth.session_token=good", "")); err != nil {
		t.Fatal(err)
	}
	if f.calls.Load() != calls+1 {
		t.Errorf("not asked again after the TTL")
	}
}

func TestIntrospectorRefusals(t *testing.T) {
	c := &clock{t: t0}
	f := newGetSession(t)
	i := newIntrospector(t, f, c)
	if _, err := i.Session(t.Context(), request("", "")); !errors.Is(err, verifier.ErrNoSession) || f.calls.Load() != 0 {
		t.Errorf("no credentials: %v after %d calls, want ErrNoSession without asking", err, f.calls.Load())
	}
	if _, err := i.Session(t.Context(), request("better-auth.session_token=revoked", "")); !errors.Is(err, verifier.ErrNoSession) {
		t.Errorf("null answer: %v, want ErrNoSession", err)
	}
	f.status.Store(http.StatusServiceUnavailable)
	if _, err := i.Session(t.Context(), request("", "Bearer other")); !errors.Is(err, verifier.ErrAuthUnavailable) {
		t.Errorf("503 answer: %v, want ErrAuthUnavailable", err)
	}

	h := i.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := verifier.SessionFrom(r.Context())
		_, _ = w.Write([]byte(s.User.ID))
	}))
	f.status.Store(0)
	for _, tc := range []struct {
		r    *http.Request
		code int
	}{{request("", "Bearer good"), 200}, {request("", "Bearer bad"), 401}} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, tc.r)
		if w.Code != tc.code {
			t.Errorf("%v: %d, want %d", tc.r.Header, w.Code, tc.code)
		}
	}
	f.status.Store(http.StatusInternalServerError)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, request("", "Bearer uncached"))
	if w.Code != 503 {
		t.Errorf("auth server failing: %d, want 503", w.Code)
	}
}
