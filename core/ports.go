package core

import (
	"context"
	"time"
)

// Repository ports. Every method takes the context first; implementations run
// inside the transaction carried by ctx when there is one (see Transactor).
// Failures to reach the store are reported as ErrUnavailable (wrapped), never
// as "not found".

// UserRepository stores users. Emails are stored and matched lower-case.
type UserRepository interface {
	// Create inserts u; ErrUserExists when the email is taken.
	Create(ctx context.Context, u User) error
	// ByID returns ErrUserNotFound when there is no such user.
	ByID(ctx context.Context, id string) (User, error)
	// ByEmail matches case-insensitively; ErrUserNotFound when absent.
	ByEmail(ctx context.Context, email string) (User, error)
	// Update writes every field of u; ErrUserNotFound when the row is gone,
	// ErrUserExists when the new email is taken.
	Update(ctx context.Context, u User) error
	// Delete removes the user with its sessions and accounts (cascade);
	// ErrUserNotFound when absent.
	Delete(ctx context.Context, id string) error
}

// SessionRepository stores sessions by their unique token. A store may
// forget sessions once they expire by itself (Redis's TTL): it then answers
// ErrSessionNotFound for them and DeleteExpired has nothing to do; the
// engine's expiry check is the same either way.
type SessionRepository interface {
	// Create inserts s; ErrDuplicate if the token exists, ErrUserNotFound if
	// the user does not.
	Create(ctx context.Context, s Session) error
	// ByToken returns the session and its user in one round trip (the hot path
	// of get-session); ErrSessionNotFound when absent.
	ByToken(ctx context.Context, token string) (Session, User, error)
	// ListByUser returns the user's sessions, oldest first.
	ListByUser(ctx context.Context, userID string) ([]Session, error)
	// Update writes expiry and updatedAt; ErrSessionNotFound when the row is gone.
	Update(ctx context.Context, s Session) error
	// DeleteByToken removes one session and reports whether it existed.
	DeleteByToken(ctx context.Context, token string) (bool, error)
	// DeleteByUser removes the user's sessions except the one whose token is
	// exceptToken (none when empty) and returns how many went.
	DeleteByUser(ctx context.Context, userID, exceptToken string) (int, error)
	// DeleteExpired removes at most limit (> 0) sessions with expiresAt
	// before t and returns how many went; fewer than limit means none is
	// left. The bound keeps each call short: callers repeat it.
	DeleteExpired(ctx context.Context, t time.Time, limit int) (int, error)
}

// AccountRepository stores the ways a user signs in.
type AccountRepository interface {
	// Create inserts a; ErrUserNotFound if the user does not exist.
	Create(ctx context.Context, a Account) error
	// Credential returns the user's email/password account (providerId
	// "credential" and accountId = userID); ErrAccountNotFound when absent.
	Credential(ctx context.Context, userID string) (Account, error)
	// ListByUser returns the user's accounts, oldest first.
	ListByUser(ctx context.Context, userID string) ([]Account, error)
	// Update writes every field of a except the password, which changes only
	// through SetPassword; ErrAccountNotFound when the row is gone.
	Update(ctx context.Context, a Account) error
	// SetPassword is the one way to change a stored password: it sets the
	// hash of account id to hash only while the stored one is still expected
	// ("" for none), so a flow that checked one password can never overwrite
	// a password set by someone else after its check. ErrPasswordChanged
	// when the stored hash is another, ErrAccountNotFound when the row is
	// gone. Inside WithinTx a concurrent writer of the row is waited for and
	// its result compared against.
	SetPassword(ctx context.Context, id, expected, hash string, now time.Time) error
	// ByProviderAccount returns the account of providerID whose subject is
	// accountID (better-auth's findAccountByKey); ErrAccountNotFound when
	// absent. Inside WithinTx the row is held until the transaction ends.
	ByProviderAccount(ctx context.Context, providerID, accountID string) (Account, error)
	// Delete removes account id of userID; ErrAccountNotFound when the user
	// has no such account.
	Delete(ctx context.Context, userID, id string) error
}

// VerificationRepository stores one-time secrets.
type VerificationRepository interface {
	Create(ctx context.Context, v Verification) error
	// Latest returns the newest row for identifier, expired or not;
	// ErrVerificationNotFound when there is none.
	Latest(ctx context.Context, identifier string) (Verification, error)
	// Consume atomically deletes every row for identifier and returns the
	// newest, so that of any number of concurrent callers exactly one gets it;
	// the others get ErrVerificationNotFound. Expiry is the caller's check.
	Consume(ctx context.Context, identifier string) (Verification, error)
	// DeleteExpired removes at most limit rows with expiresAt before t and
	// returns how many went, as SessionRepository.DeleteExpired.
	DeleteExpired(ctx context.Context, t time.Time, limit int) (int, error)
}

// Transactor runs fn in one transaction: all of fn's repository calls made
// with the ctx it receives commit together or not at all. A user or
// credential read inside fn holds that row until the transaction ends, so
// read-modify-write inside fn is atomic against concurrent transactions.
type Transactor interface {
	WithinTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// TaskLock lets one instance at a time, among all that share the store, run
// a periodic task (deleting expired rows).
type TaskLock interface {
	// TryRun runs fn unless a task of the same name is running, in this
	// process or another sharing the store, and reports whether fn ran.
	// It never waits for the holder, which is doing the work already.
	TryRun(ctx context.Context, name string, fn func(ctx context.Context) error) (ran bool, err error)
}

// RateLimiter counts requests per key in a sliding window (better-auth's
// algorithm). Consume is atomic: of N concurrent calls on a fresh key with
// limit max, exactly max are allowed. A denied call is not counted.
type RateLimiter interface {
	Consume(ctx context.Context, key string, window time.Duration, max int, now time.Time) (RateDecision, error)
	// Peek reports whether key is still under max at now without counting
	// anything: Allowed is false, with RetryAfter, exactly when the key has
	// reached max within the window, so a Consume would be denied. It lets
	// a caller refuse work before knowing whether the work should count
	// (only failed sign-ins use up an account's budget).
	Peek(ctx context.Context, key string, window time.Duration, max int, now time.Time) (RateDecision, error)
	// Reset forgets key's count, as if it had never been used. Inside
	// WithinTx the Postgres store resets with the transaction (a rollback
	// restores the count); the memory store resets at once, which can only
	// let a request through early, never refuse one.
	Reset(ctx context.Context, key string) error
	// ResetPrefix forgets every key that starts with prefix, with Reset's
	// transaction semantics. It is rare (a completed password reset), so a
	// store may scan for the keys.
	ResetPrefix(ctx context.Context, prefix string) error
}

// RateDecision is the outcome of one RateLimiter.Consume or Peek.
type RateDecision struct {
	Allowed    bool
	RetryAfter time.Duration // set when denied: time until the window frees
}

// Denied is the decision for a key whose window, last moved at last, is
// full at now. The wait is clamped to (0, window]: a concurrent request with
// a later clock (another instance, or one that waited longer for a
// connection) may have moved last past now.
func Denied(last, now time.Time, window time.Duration) RateDecision {
	wait := last.Add(window).Sub(now)
	wait = min(max(wait, time.Millisecond), window)
	return RateDecision{RetryAfter: wait}
}

// PasswordHasher hashes and verifies passwords in a storable string format.
// Implementations bound their concurrency (scrypt needs 32 MiB per call) and
// honour ctx while waiting for a slot.
type PasswordHasher interface {
	Hash(ctx context.Context, password string) (string, error)
	// Verify reports whether password matches hash. A malformed hash is an
	// error, not a mismatch.
	Verify(ctx context.Context, hash, password string) (bool, error)
	// Busy reports, without waiting, that a Hash or Verify called now would
	// be refused as overloaded. Sign-in and sign-up ask before their
	// lookups, so that a flood is turned away before it costs database work.
	Busy() bool
}

// EmailClaims are the contents of a stateless email-verification token.
type EmailClaims struct {
	Email       string
	UpdateTo    string // change-email only
	RequestType string // "change-email-confirmation" | "change-email-verification" | ""
	UserID      string
}

// EmailTokenSigner signs and checks email-verification tokens (better-auth
// uses HS256 JWTs keyed with the app secret).
type EmailTokenSigner interface {
	Sign(c EmailClaims, now time.Time, ttl time.Duration) (string, error)
	// Parse returns ErrTokenExpired for a well-signed but expired token and
	// ErrInvalidToken for anything else that is wrong.
	Parse(token string, now time.Time) (EmailClaims, error)
}

// Mail is one outgoing message. Text must hold any action URL on a line of
// its own, so that a user (or a test) can always find it.
type Mail struct {
	To      string
	Subject string
	Text    string
}

// Mailer delivers mail. Implementations must not let a slow or failing mail
// server hold up the caller for long.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}
