package core

import (
	"io"
	"time"
)

// Policy holds the auth rules; defaults are better-auth's (DefaultPolicy).
type Policy struct {
	// BaseURL is the public URL of the auth routes, e.g.
	// "http://localhost:8100/api/auth"; mailed links are built on it, never on
	// the request's Host header.
	BaseURL string

	SessionExpiresIn      time.Duration // 7 days
	SessionUpdateAge      time.Duration // 1 day
	SessionFreshAge       time.Duration // 1 day
	DontRememberExpiresIn time.Duration // 1 day, for rememberMe=false

	MinPasswordLength int // 8, in UTF-16 code units
	MaxPasswordLength int // 128

	RequireEmailVerification      bool
	DeleteUserEnabled             bool
	RevokeSessionsOnPasswordReset bool
	// DeleteUserAtOnce is better-auth without sendDeleteAccountVerification:
	// /delete-user deletes at once instead of mailing a confirmation link.
	// Off by default, unlike better-auth, so that a stolen fresh session
	// alone cannot delete an account.
	DeleteUserAtOnce bool

	ResetTokenTTL        time.Duration // 1 hour
	VerificationTokenTTL time.Duration // 1 hour
	DeleteTokenTTL       time.Duration // 1 day

	// Per-account throttles, on top of the HTTP adapter's per-IP limits,
	// which a botnet spreads thin. Wrong passwords are counted per
	// FailedSignInWindow (throttle.go): FailedSignInsPerNetwork per account
	// and client network (ASVS 2.2.1: 100 an hour) refuse that network
	// only, so that one client cannot lock the owner out;
	// FailedSignInsPerAccount over all networks refuse every client but
	// the owner's known devices, each of which has FailedSignInsPerDevice
	// of its own. At most one mail of each kind per account per
	// MailCooldown.
	FailedSignInsPerNetwork int           // 100
	FailedSignInsPerAccount int           // 1000
	FailedSignInsPerDevice  int           // 10
	FailedSignInWindow      time.Duration // 1 hour
	MailCooldown            time.Duration // 60 seconds
}

// DefaultPolicy returns better-auth 1.7's defaults for baseURL.
func DefaultPolicy(baseURL string) Policy {
	return Policy{
		BaseURL:                 baseURL,
		SessionExpiresIn:        7 * 24 * time.Hour,
		SessionUpdateAge:        24 * time.Hour,
		SessionFreshAge:         24 * time.Hour,
		DontRememberExpiresIn:   24 * time.Hour,
		MinPasswordLength:       8,
		MaxPasswordLength:       128,
		ResetTokenTTL:           time.Hour,
		VerificationTokenTTL:    time.Hour,
		DeleteTokenTTL:          24 * time.Hour,
		FailedSignInsPerNetwork: 100,
		FailedSignInsPerAccount: 1000,
		FailedSignInsPerDevice:  10,
		FailedSignInWindow:      time.Hour,
		MailCooldown:            time.Minute,
	}
}

// Deps are the ports the auth engine drives.
type Deps struct {
	Users         UserRepository
	Sessions      SessionRepository
	Accounts      AccountRepository
	Verifications VerificationRepository
	Tx            Transactor
	Hasher        PasswordHasher
	EmailTokens   EmailTokenSigner
	Mailer        Mailer
	// Limiter keeps the per-account throttles of Policy. It may be the
	// instance the HTTP adapter limits client addresses with: core's keys
	// start with a name of their own (throttle.go), never with an address.
	Limiter RateLimiter
	Clock   Clock
	// Random supplies the bytes of ids and tokens (crypto/rand.Reader in
	// production). A failing reader fails the operation; it never yields a
	// weak token.
	Random io.Reader
	// DecoyHash is a hash in Hasher's format that no password matches
	// (password.ScryptHasher.Decoy()). Sign-in verifies against it when there
	// is no user or no password to check, so that an unknown email costs the
	// same hashing work as a wrong password. Optional: when empty, the engine
	// hashes the submitted password instead, which costs the same for
	// hashers whose Hash and Verify do equal work, as scrypt's do.
	DecoyHash string
	// SecondFactor, when set, may hold a password sign-in back for a second
	// factor (core/twofactor).
	SecondFactor SecondFactor
}
