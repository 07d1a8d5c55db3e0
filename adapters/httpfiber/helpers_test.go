package httpfiber

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/emailtoken"
	"github.com/authd/authd/adapters/httpfiber/internal/cookie"
	"github.com/authd/authd/adapters/httpfiber/internal/jsonw"
	"github.com/authd/authd/adapters/httpfiber/internal/origin/origintest"
	"github.com/authd/authd/adapters/mail"
	"github.com/authd/authd/adapters/memory"
	"github.com/authd/authd/core"
	"github.com/authd/authd/core/coretest"
	"github.com/authd/authd/core/twofactor"
)

const (
	testBaseURL = "http://localhost:8100/api/auth"
	testOrigin  = "http://localhost:8100"
	testSecret  = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz"
	testPass    = "correct horse battery"
)

// jsonDate is Date#toJSON, the wire format of every timestamp.
const jsonDate = "2006-01-02T15:04:05.000Z"

var t0 = time.Date(2026, 11, 26, 4, 40, 27, 253_000_000, time.UTC)

// flakySessions lets a test take the session store down, as a Postgres
// outage would.
type flakySessions struct {
	core.SessionRepository
	down atomic.Bool
}

var errStoreDown = core.ErrUnavailable.With(errors.New("dial tcp 127.0.0.1:5432: connect: connection refused"))

func (f *flakySessions) ByToken(ctx context.Context, token string) (core.Session, core.User, error) {
	if f.down.Load() {
		return core.Session{}, core.User{}, errStoreDown
	}
	return f.SessionRepository.ByToken(ctx, token)
}

func (f *flakySessions) Create(ctx context.Context, s core.Session) error {
	if f.down.Load() {
		return errStoreDown
	}
	return f.SessionRepository.Create(ctx, s)
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type harness struct {
	t        testing.TB
	app      *fiber.App
	store    *memory.Store
	sessions *flakySessions
	limiter  *memory.RateLimiter
	outbox   *mail.Outbox
	clock    *core.FixedClock
	logs     *syncBuffer
	policy   core.Policy
	opts     Options
}

type harnessConfig struct {
	opts   func(*Options)
	policy func(*core.Policy)
	ready  ReadinessFunc
	// wrapLimiter, if set, wraps the limiter the app (not the engine) uses.
	wrapLimiter func(core.RateLimiter) core.RateLimiter
	// features, if set, builds optional route groups on the engine.
	features func(h *harness, auth *core.Auth) []Feature
	// twoFactor turns the twoFactor plugin on (twofactor_test.go).
	twoFactor bool
}

func newHarness(t testing.TB, cfg ...harnessConfig) *harness {
	t.Helper()
	var hc harnessConfig
	if len(cfg) > 0 {
		hc = cfg[0]
	}
	store := memory.NewStore()
	h := &harness{
		store:    store,
		sessions: &flakySessions{SessionRepository: store.Sessions()},
		limiter:  memory.NewRateLimiter(),
		outbox:   mail.NewOutbox(),
		clock:    &core.FixedClock{T: t0},
		logs:     &syncBuffer{},
		t:        t,
	}
	signer, err := emailtoken.NewJWTSigner([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	h.policy = core.DefaultPolicy(testBaseURL)
	h.policy.DeleteUserEnabled = true
	if hc.policy != nil {
		hc.policy(&h.policy)
	}
	deps := core.Deps{
		Users: store.Users(), Sessions: h.sessions, Accounts: store.Accounts(),
		Verifications: store.Verifications(), Tx: store.Tx(), Hasher: &coretest.Hasher{},
		EmailTokens: signer, Mailer: h.outbox, Limiter: h.limiter, Clock: h.clock, Random: rand.Reader,
	}
	var tf twofactor.Deps
	if hc.twoFactor {
		tf = h.twoFactorDeps()
		deps.SecondFactor = twofactor.NewGate(tf)
	}
	auth := core.NewAuth(deps, h.policy)
	h.opts = Options{
		BaseURL:        testBaseURL,
		Secret:         []byte(testSecret),
		TrustedOrigins: origintest.Trusted,
		Logger:         slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if hc.twoFactor {
		h.opts.TwoFactor = twofactor.New(tf, twofactor.Options{Issuer: "Better Auth"}, auth)
	}
	if hc.opts != nil {
		hc.opts(&h.opts)
	}
	var limiter core.RateLimiter = h.limiter
	if hc.wrapLimiter != nil {
		limiter = hc.wrapLimiter(limiter)
	}
	var features []Feature
	if hc.features != nil {
		features = hc.features(h, auth)
	}
	h.app, err = NewApp(h.opts, auth, limiter, hc.ready, h.clock, features...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// resp is a fully read response.
type resp struct {
	status  int
	header  http.Header
	body    string
	cookies []string // raw Set-Cookie values, in order
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// cookie returns the Set-Cookie value for name, or "".
func (r resp) cookie(name string) string {
	for _, c := range r.cookies {
		if strings.HasPrefix(c, name+"=") {
			return c
		}
	}
	return ""
}

// jar turns the response's live cookies into a Cookie header.
func (r resp) jar() string {
	var parts []string
	for _, c := range r.cookies {
		nv, attrs, _ := strings.Cut(c, ";")
		if strings.Contains(attrs, "Max-Age=0") {
			continue
		}
		parts = append(parts, nv)
	}
	return strings.Join(parts, "; ")
}

// do sends one request; hdr is name/value pairs. A JSON body gets the JSON
// content type unless hdr sets one.
func (h *harness) do(method, target, body string, hdr ...string) resp {
	h.t.Helper()
	var rd io.Reader = http.NoBody
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := h.app.Test(req, -1)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: string(b), cookies: res.Header.Values("Set-Cookie")}
}

// post sends a JSON POST from the trusted origin.
func (h *harness) post(path, body string, hdr ...string) resp {
	h.t.Helper()
	return h.do(http.MethodPost, "/api/auth"+path, body, append([]string{"Origin", testOrigin}, hdr...)...)
}

func (h *harness) get(path string, hdr ...string) resp {
	h.t.Helper()
	return h.do(http.MethodGet, "/api/auth"+path, "", hdr...)
}

// signUp registers email and returns the session cookie header.
func (h *harness) signUp(email string) string {
	h.t.Helper()
	r := h.post("/sign-up/email", `{"name":"Alice","email":"`+email+`","password":"`+testPass+`"}`)
	if r.status != 200 {
		h.t.Fatalf("sign-up %s: %d %s", email, r.status, r.body)
	}
	return r.jar()
}

func (h *harness) signIn(email string) (resp, string) {
	h.t.Helper()
	r := h.post("/sign-in/email", `{"email":"`+email+`","password":"`+testPass+`"}`)
	if r.status != 200 {
		h.t.Fatalf("sign-in %s: %d %s", email, r.status, r.body)
	}
	return r, r.jar()
}

var linkPattern = regexp.MustCompile(`https?://\S+`)

// mailLink waits for the next mail to addr and returns its link.
func (h *harness) mailLink(addr string) *url.URL {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := h.outbox.WaitFor(ctx, addr)
	if err != nil {
		h.t.Fatal(err)
	}
	u, err := url.Parse(linkPattern.FindString(m.Text))
	if err != nil || u.Host == "" {
		h.t.Fatalf("no link in mail %q", m.Text)
	}
	return u
}

func wantStatus(t *testing.T, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
}

func wantBody(t *testing.T, r resp, status int, body string) {
	t.Helper()
	if r.status != status || r.body != body {
		t.Fatalf("got %d %s\nwant %d %s", r.status, r.body, status, body)
	}
}

// wantError checks better-auth's {"message","code"} envelope exactly.
func wantError(t *testing.T, r resp, status int, code, message string) {
	t.Helper()
	wantBody(t, r, status, string(jsonw.ErrorBody(message, code)))
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content-type %q, want application/json", ct)
	}
}

func wantKeys(t *testing.T, m map[string]any, keys ...string) {
	t.Helper()
	if len(m) != len(keys) {
		t.Fatalf("keys of %v, want exactly %v", m, keys)
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Fatalf("key %q missing from %v", k, m)
		}
	}
}

const expiredCookies = "better-auth.session_token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax|" +
	"better-auth.session_data=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax|" +
	"better-auth.dont_remember=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"

func wantCookiesCleared(t *testing.T, r resp) {
	t.Helper()
	if got := strings.Join(r.cookies, "|"); got != expiredCookies {
		t.Fatalf("set-cookie\n%s\nwant\n%s", got, expiredCookies)
	}
}

func wantNoStore(t *testing.T, r resp) {
	t.Helper()
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
		t.Fatalf("cache headers %q / %q, want no-store / no-cache", r.header.Get("Cache-Control"), r.header.Get("Pragma"))
	}
}

// serve runs app on a loopback port until the test ends and returns its URL.
func serve(t *testing.T, app *fiber.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Listener(ln) }()
	t.Cleanup(func() {
		if err := app.ShutdownWithTimeout(5 * time.Second); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return "http://" + ln.Addr().String()
}

var (
	userKeys    = []string{"id", "name", "email", "emailVerified", "image", "createdAt", "updatedAt"}
	sessionKeys = []string{"id", "userId", "token", "expiresAt", "createdAt", "updatedAt", "ipAddress", "userAgent"}
	jsDate      = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
	tokenRe     = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)
)

// sessionToken is the bare session token inside a jar from signUp/signIn.
func sessionToken(jar string) string {
	return strings.SplitN(strings.TrimPrefix(jar, cookie.SessionToken+"="), ".", 2)[0]
}

func (h *harness) userOf(t *testing.T, jar string) map[string]any {
	t.Helper()
	r := h.get("/get-session", "Cookie", jar)
	if r.body == "null" {
		t.Fatalf("no session for %q", jar)
	}
	return r.json(t)["user"].(map[string]any)
}

// storedUser reads a user straight from the store, bypassing every route.
func (h *harness) storedUser(t *testing.T, email string) core.User {
	t.Helper()
	u, err := h.store.Users().ByEmail(t.Context(), email)
	if err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	return u
}

// addUserWithoutPassword stores a user whose only account has provider and
// password (nil for none): a social-only user, or a credential row without
// a password.
func (h *harness) addUserWithoutPassword(t *testing.T, id, email, provider string) {
	t.Helper()
	u, err := core.NewUser(id, "Social", email, nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.Users().Create(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	accountID := "gh-" + id
	if provider == core.ProviderCredential {
		accountID = id
	}
	acc := core.RehydrateAccount(core.AccountRecord{ID: "acc-" + id, UserID: id, AccountID: accountID,
		ProviderID: provider, CreatedAt: t0, UpdatedAt: t0})
	if err := h.store.Accounts().Create(t.Context(), acc); err != nil {
		t.Fatal(err)
	}
}

// headersExcept returns r's headers without the per-request ones, for
// comparing two answers.
func headersExcept(r resp, drop ...string) http.Header {
	out := r.header.Clone()
	for _, d := range append([]string{"X-Request-Id", "Date"}, drop...) {
		out.Del(d)
	}
	return out
}
