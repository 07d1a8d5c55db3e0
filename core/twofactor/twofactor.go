// Package twofactor is better-auth 1.7's twoFactor plugin: TOTP enrolment,
// the challenge that stands in for a password sign-in's session, its
// completion with a TOTP code, a mailed one-time code or a backup code,
// trusted devices and the lockout after repeated failures. Rows are
// better-auth's (table two_factor, user.two_factor_enabled and its
// verification identifiers), so a user enrolled on either server is
// challenged and completes on the other.
package twofactor

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/authd/authd/core"
)

// Methods a challenge offers, as better-auth names them.
const (
	MethodTOTP = "totp"
	MethodOTP  = "otp"
)

// Record is one row of two_factor. Secret and BackupCodes are sealed (Keys).
type Record struct {
	ID          string
	UserID      string
	Secret      string
	BackupCodes string
	// Verified is false between enable and the first right code.
	Verified    bool
	FailedCount int
	LockedUntil *time.Time
}

// ErrNotFound is Repository.ByUser finding no row; the flows answer with the
// plugin's own errors instead.
var ErrNotFound = core.NewError(core.KindNotFound, "TWO_FACTOR_NOT_FOUND", "Two factor not found")

// Repository stores two_factor rows and the user's flag. Inside a
// core.Transactor transaction, ByUser holds the row until the transaction
// ends, as core's repositories do.
type Repository interface {
	// ByUser returns the user's row; ErrNotFound when there is none.
	ByUser(ctx context.Context, userID string) (Record, error)
	// Put makes r the user's row: an existing row keeps its id and gets r's
	// secret, backup codes and verified flag; otherwise r is inserted.
	// core.ErrUserNotFound when the user is gone.
	Put(ctx context.Context, r Record) error
	SetVerified(ctx context.Context, id string) error
	SetBackupCodes(ctx context.Context, id, sealed string) error
	// SwapBackupCodes sets the backup codes to next only while they are
	// still prev, and reports whether it did: of two requests spending codes
	// from the same list, one loses.
	SwapBackupCodes(ctx context.Context, id, prev, next string) (bool, error)
	// AddFailure adds one failed verification atomically and, once the
	// count reaches max, sets locked_until to lockUntil.
	AddFailure(ctx context.Context, id string, max int, lockUntil time.Time) error
	// ClearExpiredLock zeroes the count and the lock if locked_until <= now.
	ClearExpiredLock(ctx context.Context, id string, now time.Time) error
	// ResetFailures zeroes the count and the lock.
	ResetFailures(ctx context.Context, id string) error
	// DeleteByUser removes the user's row, if any.
	DeleteByUser(ctx context.Context, userID string) error
	// SetUserEnabled writes user.two_factor_enabled (and updated_at);
	// core.ErrUserNotFound when the user is gone.
	SetUserEnabled(ctx context.Context, userID string, on bool, now time.Time) error
}

// Keys holds what the app secret keys: better-auth's symmetric encryption
// of secrets and backup codes, and the MAC of trusted-device cookies.
type Keys interface {
	Seal(plain string) (string, error)
	// Open fails for anything Seal (or better-auth) did not seal under this
	// secret.
	Open(sealed string) (string, error)
	// TrustMAC is base64url (no padding) of HMAC-SHA256(app secret,
	// userID + "!" + identifier).
	TrustMAC(userID, identifier string) string
}

// Codes checks RFC 6238 codes (HMAC-SHA1, 6 digits, 30 s steps).
type Codes interface {
	// Match reports the time step, among now's and its two neighbours,
	// whose code is code, comparing in constant time.
	Match(key []byte, code string, now time.Time) (step int64, ok bool)
}

// Deps are the ports the feature drives.
type Deps struct {
	Repo          Repository
	Users         core.UserRepository
	Verifications core.VerificationRepository
	Tx            core.Transactor
	Keys          Keys
	Codes         Codes
	Mailer        core.Mailer
	Clock         core.Clock
	// Random supplies the bytes of ids, secrets and codes
	// (crypto/rand.Reader in production).
	Random io.Reader
}

// Options are the plugin's settings.
type Options struct {
	// Issuer names the service in authenticator apps (otpauth URI).
	Issuer string
}

// better-auth's defaults.
const (
	challengeTTL     = 600 * time.Second
	otpTTL           = 180 * time.Second
	trustTTL         = 30 * 24 * time.Hour
	attemptsAllowed  = 5 // per challenge (TOTP and backup codes) and per OTP
	lockoutFailures  = 10
	lockoutDuration  = 900 * time.Second
	backupCodeCount  = 10
	secretLength     = 32
	challengeIDChars = 20
	trustIDChars     = 32
	otpDigits        = 6
	totpPeriod       = 30 * time.Second
)

// Verification identifiers, as better-auth writes them.
const (
	challengePrefix = "2fa-"
	attemptsPrefix  = "2fa-attempts-"
	otpPrefix       = "2fa-otp-"
	trustPrefix     = "trust-device-"
	// usedStepPrefix is authd's own: the last TOTP time step accepted for
	// a user, so that a code is refused once used (better-auth accepts it
	// again within its window).
	usedStepPrefix = "2fa-totp-step-"
)

// Alphabets of better-auth's generateRandomString.
const (
	urlSafe      = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
	alphanumeric = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digits       = "0123456789"
)

// Gate is what password sign-in asks before it issues a session
// (core.SecondFactor). It is built before the engine, which is built with it.
type Gate struct{ *kit }

// NewGate builds the sign-in gate.
func NewGate(d Deps) *Gate { return &Gate{&kit{d: d}} }

// Service runs the plugin's routes, on the engine that issues sessions and
// checks passwords.
type Service struct {
	*kit
	o    Options
	auth *core.Auth
}

// New builds the service.
func New(d Deps, o Options, a *core.Auth) *Service {
	return &Service{kit: &kit{d: d}, o: o, auth: a}
}

// kit is what the gate and the service share: the ports and their helpers.
type kit struct {
	d      Deps
	randMu sync.Mutex
}

func (k *kit) now() time.Time { return k.d.Clock.Now() }

func (k *kit) random(n int, alphabet string) (string, error) {
	k.randMu.Lock()
	defer k.randMu.Unlock()
	return core.DrawString(k.d.Random, n, alphabet)
}

// store records identifier → value until expiresAt. A row that would be
// born expired (a count rewritten at the end of its challenge) is not
// written: it could grant nothing.
func (k *kit) store(ctx context.Context, identifier, value string, expiresAt time.Time) error {
	now := k.now()
	if !expiresAt.After(now) {
		return nil
	}
	id, err := k.random(32, alphanumeric)
	if err != nil {
		return err
	}
	v, err := core.NewVerification(id, identifier, value, now, expiresAt.Sub(now))
	if err != nil {
		return err
	}
	return k.d.Verifications.Create(ctx, v)
}
