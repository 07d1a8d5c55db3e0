package twofactor_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"

	"github.com/authd/authd/adapters/emailtoken"
	"github.com/authd/authd/adapters/memory"
	"github.com/authd/authd/adapters/twofactorcrypto"
	"github.com/authd/authd/core"
	"github.com/authd/authd/core/twofactor"
)

var ctx = context.Background()

// t0 is 7 s into a TOTP step.
var t0 = time.Unix(59_000_000*30+7, 0).UTC()

const password = "correct horse battery"

type hasher struct{}

func hash(pw string) string { s := sha256.Sum256([]byte(pw)); return hex.EncodeToString(s[:]) }

func (hasher) Hash(_ context.Context, pw string) (string, error) { return hash(pw), nil }
func (hasher) Verify(_ context.Context, h, pw string) (bool, error) {
	return h == hash(pw), nil
}
func (hasher) Busy() bool { return false }

type outbox struct {
	mu   sync.Mutex
	sent []core.Mail
}

func (o *outbox) Send(_ context.Context, m core.Mail) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, m)
	return nil
}

// lastCode is the code alone on a line of the last mail.
func (o *outbox) lastCode(t *testing.T) string {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.sent) == 0 {
		t.Fatal("no mail")
	}
	for _, line := range strings.Split(o.sent[len(o.sent)-1].Text, "\n") {
		if len(line) == 6 && strings.Trim(line, "0123456789") == "" {
			return line
		}
	}
	t.Fatalf("no code alone on a line in %q", o.sent[len(o.sent)-1].Text)
	return ""
}

type env struct {
	t     *testing.T
	store *memory.Store
	clock *core.FixedClock
	keys  *twofactorcrypto.Keys
	mail  *outbox
	auth  *core.Auth
	svc   *twofactor.Service
}

func newEnv(t *testing.T) *env { return newEnvWith(t, nil) }

// newEnvWith wraps the two-factor repository the service sees.
func newEnvWith(t *testing.T, wrap func(twofactor.Repository) twofactor.Repository) *env {
	t.Helper()
	signer, err := emailtoken.NewJWTSigner([]byte("test-secret-test-secret-test-secret!"))
	if err != nil {
		t.Fatal(err)
	}
	s := memory.NewStore()
	e := &env{t: t, store: s, clock: &core.FixedClock{T: t0}, keys: twofactorcrypto.NewKeys("app-secret"), mail: &outbox{}}
	var repo twofactor.Repository = s.TwoFactors()
	if wrap != nil {
		repo = wrap(repo)
	}
	d := twofactor.Deps{Repo: repo, Users: s.Users(), Verifications: s.Verifications(), Tx: s.Tx(),
		Keys: e.keys, Codes: twofactorcrypto.Codes{}, Mailer: e.mail, Clock: e.clock, Random: rand.Reader}
	e.auth = core.NewAuth(core.Deps{
		Users: s.Users(), Sessions: s.Sessions(), Accounts: s.Accounts(), Verifications: s.Verifications(), Tx: s.Tx(),
		Hasher: hasher{}, EmailTokens: signer, Mailer: e.mail, Limiter: memory.NewRateLimiter(), Clock: e.clock,
		Random: rand.Reader, SecondFactor: twofactor.NewGate(d),
	}, core.DefaultPolicy("http://localhost/api/auth"))
	e.svc = twofactor.New(d, twofactor.Options{Issuer: "Better Auth"}, e.auth)
	return e
}

// signUp returns a new user's session.
func (e *env) signUp(email string) core.SessionView {
	e.t.Helper()
	r, err := e.auth.SignUpEmail(ctx, core.SignUpInput{Name: "Ann", Email: email, Password: password, RememberMe: true})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.view(r.Session.Token())
}

func (e *env) view(token string) core.SessionView {
	e.t.Helper()
	v, err := e.auth.RequireSession(ctx, token)
	if err != nil {
		e.t.Fatalf("session %s: %v", token, err)
	}
	return v
}

// enrol turns TOTP on for a new user and returns the session (rotated),
// the TOTP key and the backup codes.
func (e *env) enrol(email string) (core.SessionView, []byte, []string) {
	e.t.Helper()
	v := e.signUp(email)
	res, err := e.svc.Enable(ctx, v, twofactor.EnableInput{Password: password})
	if err != nil {
		e.t.Fatal(err)
	}
	key := e.key(v.User.ID())
	out, err := e.svc.VerifyTOTP(ctx, twofactor.Caller{Session: &v}, twofactor.VerifyInput{Code: code(key, e.step(-1))})
	if err != nil || out.Session == nil {
		e.t.Fatalf("enrolment code: %+v, %v", out, err)
	}
	return *out.Session, key, res.BackupCodes
}

func (e *env) key(userID string) []byte {
	e.t.Helper()
	rec, err := e.store.TwoFactors().ByUser(ctx, userID)
	if err != nil {
		e.t.Fatal(err)
	}
	secret, err := e.keys.Open(rec.Secret)
	if err != nil {
		e.t.Fatal(err)
	}
	return []byte(secret)
}

func (e *env) step(offset int64) int64 { return e.clock.T.Unix()/30 + offset }

func code(key []byte, step int64) string {
	c, err := hotp.GenerateCodeCustom(base32.StdEncoding.EncodeToString(key), uint64(step),
		hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		panic(err)
	}
	return c
}

// challenge signs in with the password and returns the challenge.
func (e *env) challenge(email string, rememberMe bool, trust string) core.AuthResult {
	e.t.Helper()
	r, err := e.auth.SignInEmail(ctx, core.SignInInput{Email: email, Password: password, RememberMe: rememberMe, TrustDevice: trust})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) sessions(userID string) int {
	e.t.Helper()
	ss, err := e.store.Sessions().ListByUser(ctx, userID)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(ss)
}

func mustBe(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

// barrierRepo holds back the first n ByUser calls until all n have read, so
// that n requests act on the same snapshot of the row.
type barrierRepo struct {
	twofactor.Repository
	mu      sync.Mutex
	armed   bool
	waiting int
	n       int
	release chan struct{}
}

func (b *barrierRepo) arm(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.armed, b.n, b.waiting, b.release = true, n, 0, make(chan struct{})
}

func (b *barrierRepo) ByUser(ctx context.Context, userID string) (twofactor.Record, error) {
	rec, err := b.Repository.ByUser(ctx, userID)
	b.mu.Lock()
	if !b.armed {
		b.mu.Unlock()
		return rec, err
	}
	b.waiting++
	release := b.release
	if b.waiting == b.n {
		b.armed = false
		close(release)
	}
	b.mu.Unlock()
	<-release
	return rec, err
}
