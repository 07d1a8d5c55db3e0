package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
)

// Keys of the per-account counters in Deps.Limiter. Failed sign-ins are
// counted per normalised email, so that unknown addresses are throttled
// exactly like known ones; mail cooldowns per account and kind of mail, so
// that one flow's mails (a change-email confirmation, then the link to the
// new address) never hold each other up.
const (
	keyFailedSignIn            = "signin-failed:"
	keyMailReset               = "mail-reset:"
	keyMailVerify              = "mail-verify:"
	keyMailDelete              = "mail-delete:"
	keyMailChangeEmailConfirm  = "mail-change-email-confirm:"
	keyMailChangeEmailVerify   = "mail-change-email-verify:"
	keyMailExistingAccountNote = "mail-existing-account:"
)

// checkFailedSignIns refuses a sign-in for email once the address has used
// up its wrong passwords (ErrTooManyRequests with RetryAfter). It only looks:
// an attempt is counted by countFailedSignIn once it has failed, so the
// owner's successful sign-ins never use up the budget. Concurrent attempts
// can all pass the look before any of them is counted, so the bound is
// FailedSignInLimit plus the attempts in flight at the edge, which the
// per-IP limiter and the hasher's bounded queue keep small.
func (a *Auth) checkFailedSignIns(ctx context.Context, email string) error {
	d, err := a.d.Limiter.Peek(ctx, failedSignInKey(email), a.p.FailedSignInWindow, a.p.FailedSignInLimit, a.now())
	if err != nil {
		return err
	}
	if !d.Allowed {
		return ErrTooManyRequests.RetryIn(d.RetryAfter)
	}
	return nil
}

// countFailedSignIn records one wrong password for email. Whether the count
// is now over the limit does not matter here: this attempt has been
// answered already, and the next one is refused by checkFailedSignIns.
func (a *Auth) countFailedSignIn(ctx context.Context, email string) error {
	_, err := a.d.Limiter.Consume(ctx, failedSignInKey(email), a.p.FailedSignInWindow, a.p.FailedSignInLimit, a.now())
	return err
}

// failedSignInKey names email's counter by a digest: counters are stored (in
// table rate_limit with the database limiter) and must not keep a list of
// the addresses someone tried, most of which may have no account.
func failedSignInKey(email string) string {
	sum := sha256.Sum256([]byte(email))
	return keyFailedSignIn + hex.EncodeToString(sum[:16])
}

// mailAllowed spends the cooldown of key: true when no mail of this kind
// went to the account within MailCooldown. A refused mail is dropped without
// a word, and callers answer as if it had been sent: an error would tell an
// anonymous caller that the address has an account (GoTrue answers 429 here
// and leaks exactly that).
func (a *Auth) mailAllowed(ctx context.Context, key string) (bool, error) {
	d, err := a.d.Limiter.Consume(ctx, key, a.p.MailCooldown, 1, a.now())
	if err != nil {
		return false, err
	}
	return d.Allowed, nil
}
