package core_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/adapters/emailtoken"
	"github.com/authd/authd/adapters/memory"
	"github.com/authd/authd/core"
	"github.com/authd/authd/core/coretest"
)

const baseURL = "http://localhost:8100/api/auth"

var t0 = time.Date(2026, 11, 26, 4, 40, 27, 253_000_000, time.UTC)

// outbox records mail; fail makes Send report an error after recording.
type outbox struct {
	mu   sync.Mutex
	sent []core.Mail
	fail atomic.Bool
}

func (o *outbox) Send(ctx context.Context, m core.Mail) error {
	o.mu.Lock()
	o.sent = append(o.sent, m)
	o.mu.Unlock()
	if o.fail.Load() {
		return errors.New("smtp: connection refused")
	}
	return nil
}

func (o *outbox) all() []core.Mail {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]core.Mail(nil), o.sent...)
}

func (o *outbox) to(addr string) []core.Mail {
	var out []core.Mail
	for _, m := range o.all() {
		if m.To == addr {
			out = append(out, m)
		}
	}
	return out
}

// link returns the one URL line of m, failing the test if there is none.
func link(t *testing.T, m core.Mail) *url.URL {
	t.Helper()
	var found []string
	for _, line := range strings.Split(m.Text, "\n") {
		if strings.HasPrefix(line, "http://") || strings.HasPrefix(line, "https://") {
			found = append(found, line)
		}
	}
	if len(found) != 1 {
		t.Fatalf("mail %q: want exactly one URL line, got %q", m.Subject, found)
	}
	u, err := url.Parse(found[0])
	if err != nil {
		t.Fatalf("mail link %q: %v", found[0], err)
	}
	return u
}

type env struct {
	t      *testing.T
	store  *memory.Store
	deps   core.Deps
	policy core.Policy
	clock  *core.FixedClock
	hasher *coretest.Hasher
	mail   *outbox
	signer *emailtoken.JWTSigner
	limit  *memory.RateLimiter
	auth   *core.Auth
}

// newEnv wires an engine on a fresh memory store. tweak may adjust the policy
// and the deps (to wrap a repository with a fault) before the engine is built.
func newEnv(t *testing.T, tweak func(p *core.Policy, d *core.Deps)) *env {
	t.Helper()
	signer, err := emailtoken.NewJWTSigner([]byte("test-secret-test-secret-test-secret!"))
	if err != nil {
		t.Fatal(err)
	}
	store := memory.NewStore()
	e := &env{t: t, store: store, clock: &core.FixedClock{T: t0}, hasher: &coretest.Hasher{}, mail: &outbox{}, signer: signer,
		limit: memory.NewRateLimiter()}
	e.policy = core.DefaultPolicy(baseURL)
	e.policy.DeleteUserEnabled = true
	e.policy.RevokeSessionsOnPasswordReset = true
	e.deps = core.Deps{
		Users: store.Users(), Sessions: store.Sessions(), Accounts: store.Accounts(),
		Verifications: store.Verifications(), Tx: store.Tx(),
		Hasher: e.hasher, EmailTokens: signer, Mailer: e.mail, Limiter: e.limit, Clock: e.clock, Random: rand.Reader,
		DecoyHash: coretest.Hash("decoy: a password nobody is given"),
	}
	if tweak != nil {
		tweak(&e.policy, &e.deps)
	}
	e.auth = core.NewAuth(e.deps, e.policy)
	return e
}

var ctx = context.Background()

func (e *env) signUp(email, password string) core.AuthResult {
	e.t.Helper()
	r, err := e.auth.SignUpEmail(ctx, core.SignUpInput{Name: "Alice", Email: email, Password: password, RememberMe: true})
	if err != nil {
		e.t.Fatalf("sign-up %s: %v", email, err)
	}
	return r
}

func (e *env) signIn(email, password string) core.AuthResult {
	e.t.Helper()
	r, err := e.auth.SignInEmail(ctx, core.SignInInput{Email: email, Password: password, RememberMe: true})
	if err != nil {
		e.t.Fatalf("sign-in %s: %v", email, err)
	}
	return r
}

// view resolves a session token the way a session-required route does.
func (e *env) view(token string) core.SessionView {
	e.t.Helper()
	v, err := e.auth.RequireSession(ctx, token)
	if err != nil {
		e.t.Fatalf("require session: %v", err)
	}
	return v
}

// user signs up email and returns its session view.
func (e *env) user(email, password string) core.SessionView {
	e.t.Helper()
	return e.view(e.signUp(email, password).Session.Token())
}

func (e *env) countSessions(userID string) int {
	e.t.Helper()
	ss, err := e.store.Sessions().ListByUser(ctx, userID)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(ss)
}

func (e *env) mustFail(err, want error) {
	e.t.Helper()
	if !errors.Is(err, want) {
		e.t.Fatalf("got error %v, want %v", err, want)
	}
}

func kindOf(err error) core.Kind {
	var ce *core.Error
	if errors.As(err, &ce) {
		return ce.Kind
	}
	return -1
}

// sessionsWithFaults fails chosen session operations, to check rollbacks.
type sessionsWithFaults struct {
	core.SessionRepository
	create, update, deleteByUser error
}

func (s *sessionsWithFaults) Create(ctx context.Context, v core.Session) error {
	if s.create != nil {
		return s.create
	}
	return s.SessionRepository.Create(ctx, v)
}

func (s *sessionsWithFaults) Update(ctx context.Context, v core.Session) error {
	if s.update != nil {
		return s.update
	}
	return s.SessionRepository.Update(ctx, v)
}

func (s *sessionsWithFaults) DeleteByUser(ctx context.Context, userID, except string) (int, error) {
	if s.deleteByUser != nil {
		return 0, s.deleteByUser
	}
	return s.SessionRepository.DeleteByUser(ctx, userID, except)
}

var errInjected = core.ErrUnavailable.With(errors.New("injected fault"))

func errorsIs(err, target error) bool { return errors.Is(err, target) }
