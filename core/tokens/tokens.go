package tokens

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authd/authd/core"
)

// DefaultAlg is the algorithm of new keys and of rows whose alg is NULL.
const DefaultAlg = "EdDSA"

// Options are the jwt plugin's settings (better-auth names in brackets).
type Options struct {
	Issuer     string        // jwt.issuer; required
	Audience   string        // jwt.audience; required
	Expiration time.Duration // jwt.expirationTime: 15 minutes
	// RotationInterval gives every new key an expiry this far ahead; a
	// token request after it makes the next key (jwks.rotationInterval).
	// Zero: keys never expire.
	RotationInterval time.Duration
	// GracePeriod keeps an expired key in the JWKS this long, so tokens it
	// signed still verify (jwks.gracePeriod: 30 days).
	GracePeriod time.Duration
	// Refresh is how long the cached table is trusted before it is read
	// again, which is how keys made by other instances reach this one's
	// JWKS and signing choice.
	Refresh time.Duration
	// TwoFactor adds the user's twoFactorEnabled to the claims, as
	// better-auth's session user carries it while that plugin is on.
	TwoFactor bool
}

// DefaultOptions are better-auth's defaults for an issuer and audience.
func DefaultOptions(issuer, audience string) Options {
	return Options{Issuer: issuer, Audience: audience, Expiration: 15 * time.Minute,
		GracePeriod: 30 * 24 * time.Hour, Refresh: time.Minute}
}

// Deps are the ports the service drives.
type Deps struct {
	Keys   KeyRepository
	Crypto KeyCrypto
	Clock  core.Clock
	// Random supplies the bytes of key ids (crypto/rand.Reader in
	// production).
	Random io.Reader
	// Lock, when set, lets one instance at a time make a key among all that
	// share the store; the others wait for its key instead of making their
	// own, which another instance's cached JWKS would lack until its next
	// Refresh. nil: this process is the only one.
	Lock core.TaskLock
}

// ErrKeyUnusable means the signing key's private half could not be opened,
// usually because it was stored under another app secret. better-auth fails
// the request too; making a new key would hide the misconfiguration.
var ErrKeyUnusable = core.NewError(core.KindInternal, "JWKS_KEY_UNUSABLE",
	"the signing key cannot be decrypted with this secret")

// Service issues tokens and publishes keys. It is safe for concurrent use.
type Service struct {
	d Deps
	o Options

	snap atomic.Pointer[snapshot]
	// mu serialises reloads and key creation within this instance.
	mu      sync.Mutex
	signers map[string]Signer // opened private keys by id; guarded by mu
	randMu  sync.Mutex
}

// snapshot is one read of the table with the signing key chosen from it.
type snapshot struct {
	keys    []Key
	readAt  time.Time
	signing *Key // nil when no key is live
	signer  Signer
}

func New(d Deps, o Options) *Service {
	return &Service{d: d, o: o, signers: map[string]Signer{}}
}

// claims is the payload of better-auth's /token: iat first, the session's
// user as get-session shows it, then sub, exp, iss and aud (the order in
// which jose's SignJWT adds them).
type claims struct {
	IssuedAt      int64   `json:"iat"`
	ID            string  `json:"id"`
	Name          string  `json:"name"`
	Email         string  `json:"email"`
	EmailVerified bool    `json:"emailVerified"`
	Image         *string `json:"image"`
	CreatedAt     string  `json:"createdAt"`
	UpdatedAt     string  `json:"updatedAt"`
	TwoFactor     *bool   `json:"twoFactorEnabled,omitempty"`
	Subject       string  `json:"sub"`
	Expiry        int64   `json:"exp"`
	Issuer        string  `json:"iss"`
	Audience      string  `json:"aud"`
}

// isoDate is JavaScript's Date.prototype.toISOString.
const isoDate = "2006-01-02T15:04:05.000Z"

// Token returns a signed JWT of v's user, valid for Options.Expiration.
func (s *Service) Token(ctx context.Context, v core.SessionView) (string, error) {
	now := s.d.Clock.Now()
	snap, err := s.signingSnapshot(ctx, now)
	if err != nil {
		return "", err
	}
	u := v.User
	iat := now.Unix()
	c := claims{
		IssuedAt: iat, ID: u.ID(), Name: u.Name(), Email: u.Email(), EmailVerified: u.EmailVerified(),
		Image: u.Image(), CreatedAt: u.CreatedAt().UTC().Format(isoDate), UpdatedAt: u.UpdatedAt().UTC().Format(isoDate),
		Subject: u.ID(), Expiry: iat + int64(s.o.Expiration/time.Second), Issuer: s.o.Issuer, Audience: s.o.Audience,
	}
	if s.o.TwoFactor {
		on := u.TwoFactorEnabled()
		c.TwoFactor = &on
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	return snap.signer.Sign(payload)
}

// PublicKeys returns the keys a verifier should accept: every key that has
// not expired, or expired less than GracePeriod ago. On an empty table it
// makes the first key, as better-auth's /jwks does.
func (s *Service) PublicKeys(ctx context.Context) ([]Key, error) {
	now := s.d.Clock.Now()
	snap, err := s.current(ctx, now)
	if err != nil {
		return nil, err
	}
	if len(snap.keys) == 0 {
		if snap, err = s.reload(ctx, now, snap, func(sn *snapshot) bool { return len(sn.keys) > 0 }); err != nil {
			return nil, err
		}
	}
	out := make([]Key, 0, len(snap.keys))
	for _, k := range snap.keys {
		if k.ExpiresAt == nil || k.ExpiresAt.Add(s.o.GracePeriod).After(now) {
			out = append(out, k)
		}
	}
	return out, nil
}

// current returns the cached snapshot, re-reading the table when it is
// older than Refresh.
func (s *Service) current(ctx context.Context, now time.Time) (*snapshot, error) {
	if snap := s.snap.Load(); snap != nil && now.Sub(snap.readAt) < s.o.Refresh {
		return snap, nil
	}
	return s.reload(ctx, now, nil, nil)
}

// signingSnapshot returns a snapshot whose signing key is live at now,
// making a key when the table has none.
func (s *Service) signingSnapshot(ctx context.Context, now time.Time) (*snapshot, error) {
	snap, err := s.current(ctx, now)
	if err != nil {
		return nil, err
	}
	if snap.signing != nil && snap.signing.Live(now) {
		return snap, nil
	}
	return s.reload(ctx, now, snap, func(sn *snapshot) bool { return sn.signing != nil && sn.signing.Live(now) })
}

// reload reads the table under mu. With ok set it makes a key when the
// fresh read still fails ok, then reads again, so that two instances racing
// to make the first key both end up signing with the newer one. seen is the
// snapshot the caller judged; if another goroutine replaced it meanwhile,
// its read is reused.
func (s *Service) reload(ctx context.Context, now time.Time, seen *snapshot, ok func(*snapshot) bool) (*snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.snap.Load(); cur != nil && cur != seen && now.Sub(cur.readAt) < s.o.Refresh && (ok == nil || ok(cur)) {
		return cur, nil
	}
	snap, err := s.read(ctx, now)
	if err != nil {
		return nil, err
	}
	if ok != nil && !ok(snap) {
		if snap, err = s.makeKey(ctx, now, ok); err != nil {
			return nil, err
		}
	}
	s.snap.Store(snap)
	return snap, nil
}

// keyWait is how often an instance that finds another one making the key
// looks for it.
const keyWait = 20 * time.Millisecond

// makeKey makes a key, or with Lock set lets the instance holding it make
// one and waits for it, and returns the read of the table that satisfies ok.
func (s *Service) makeKey(ctx context.Context, now time.Time, ok func(*snapshot) bool) (*snapshot, error) {
	if s.d.Lock == nil {
		if err := s.create(ctx, now); err != nil {
			return nil, err
		}
	}
	for s.d.Lock != nil {
		ran, err := s.d.Lock.TryRun(ctx, "jwks-create", func(ctx context.Context) error {
			// Under the lock: made by the previous holder already?
			snap, err := s.read(ctx, now)
			if err != nil || ok(snap) {
				return err
			}
			return s.create(ctx, now)
		})
		if err != nil {
			return nil, err
		}
		if ran {
			break
		}
		select {
		case <-ctx.Done():
			return nil, core.ErrUnavailable.With(ctx.Err())
		case <-time.After(keyWait):
		}
		if snap, err := s.read(ctx, now); err != nil || ok(snap) {
			return snap, err
		}
	}
	snap, err := s.read(ctx, now)
	if err != nil {
		return nil, err
	}
	if !ok(snap) {
		return nil, fmt.Errorf("tokens: the key just made is not in the table")
	}
	return snap, nil
}

// read loads the table and picks the signing key as better-auth does: the
// newest live key of DefaultAlg (or NULL alg), else the newest live key.
func (s *Service) read(ctx context.Context, now time.Time) (*snapshot, error) {
	keys, err := s.d.Keys.List(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(keys, func(a, b Key) int { return b.CreatedAt.Compare(a.CreatedAt) })
	snap := &snapshot{keys: keys, readAt: now}
	for pass := 0; pass < 2 && snap.signing == nil; pass++ {
		for i := range keys {
			if keys[i].Live(now) && (pass == 1 || keys[i].Alg == "" || keys[i].Alg == DefaultAlg) {
				snap.signing = &keys[i]
				break
			}
		}
	}
	if snap.signing == nil {
		return snap, nil
	}
	k := *snap.signing
	signer, cached := s.signers[k.ID]
	if !cached {
		alg := k.Alg
		if alg == "" {
			alg = DefaultAlg
		}
		signer, err = s.d.Crypto.Signer(k, alg)
		if err != nil {
			return nil, ErrKeyUnusable.With(fmt.Errorf("key %s: %w", k.ID, err))
		}
		s.signers[k.ID] = signer
	}
	snap.signer = signer
	return snap, nil
}

func (s *Service) create(ctx context.Context, now time.Time) error {
	id, err := s.newID()
	if err != nil {
		return err
	}
	pub, priv, crv, err := s.d.Crypto.Generate(DefaultAlg)
	if err != nil {
		return fmt.Errorf("tokens: generating a key: %w", err)
	}
	k := Key{ID: id, PublicKey: pub, PrivateKey: priv, CreatedAt: now, Alg: DefaultAlg, Crv: crv}
	if s.o.RotationInterval > 0 {
		exp := now.Add(s.o.RotationInterval)
		k.ExpiresAt = &exp
	}
	if err := s.d.Keys.Create(ctx, k); err != nil {
		if errors.Is(err, core.ErrDuplicate) {
			return fmt.Errorf("tokens: key id collision: %w", err)
		}
		return err
	}
	return nil
}

// newID draws better-auth's generateId(): 32 symbols of a-zA-Z0-9, bytes at
// or above 248 rejected so that byte % 62 has no bias.
func (s *Service) newID() (string, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	const n, limit = 32, 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	s.randMu.Lock()
	defer s.randMu.Unlock()
	for round := 0; len(out) < n; round++ {
		if round == 64 {
			return "", fmt.Errorf("tokens: random source yields no usable bytes")
		}
		if _, err := io.ReadFull(s.d.Random, buf); err != nil {
			return "", fmt.Errorf("tokens: reading random bytes: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}
