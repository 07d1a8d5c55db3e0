package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/netip"
)

// Keys of the per-account counters in Deps.Limiter. Wrong passwords are
// counted per normalised email, so that unknown addresses are throttled
// exactly like known ones; mail cooldowns per account and kind of mail, so
// that one flow's mails (a change-email confirmation, then the link to the
// new address) never hold each other up.
const (
	keyFailedSignIn            = "signin-failed:"        // per account, all networks
	keyFailedSignInNetwork     = "signin-failed-net:"    // per account and client network
	keyFailedSignInDevice      = "signin-failed-device:" // per known device
	keyMailReset               = "mail-reset:"
	keyMailVerify              = "mail-verify:"
	keyMailDelete              = "mail-delete:"
	keyMailChangeEmailConfirm  = "mail-change-email-confirm:"
	keyMailChangeEmailVerify   = "mail-change-email-verify:"
	keyMailExistingAccountNote = "mail-existing-account:"
)

// failureCounter is one counter a wrong password is counted on.
type failureCounter struct {
	key   string
	limit int
}

// failureBudget is the counters one password check draws on.
type failureBudget []failureCounter

// checkFailures picks the budget a password check for the account of email
// (userID, "" when there is none) draws on, and refuses the check
// (ErrTooManyRequests with RetryAfter) when that budget is used up. It only
// looks: a check is counted by countFailure once it has failed, so the
// owner's successful sign-ins never use up a budget.
//
// A known device of the account draws on its own small budget (OWASP's
// device cookies), so that neither a network nor the whole account being
// hammered keeps the owner's browser out, and a stolen device cookie buys
// few guesses. Every other client, and a device over its budget, draws on
// the account's budget for its network, then on the account's budget over
// all networks: one network guessing locks out that network only, and only
// many networks together lock out the clients the account does not know.
//
// Concurrent checks can all pass the look before any of them is counted,
// so a bound is exceeded by the checks in flight at the edge, which the
// per-IP limiter and the hasher's bounded queue keep small.
func (a *Auth) checkFailures(ctx context.Context, email, userID string, meta RequestMeta) (failureBudget, error) {
	if d := meta.Device; d.ID != "" && userID != "" && d.UserID == userID {
		b := failureBudget{{deviceKey(d), a.p.FailedSignInsPerDevice}}
		if err := a.peekFailures(ctx, b); err == nil || !errors.Is(err, ErrTooManyRequests) {
			return b, err
		}
	}
	b := failureBudget{
		{networkKey(email, meta.IP), a.p.FailedSignInsPerNetwork},
		{accountKey(email), a.p.FailedSignInsPerAccount},
	}
	return b, a.peekFailures(ctx, b)
}

func (a *Auth) peekFailures(ctx context.Context, b failureBudget) error {
	for _, c := range b {
		d, err := a.d.Limiter.Peek(ctx, c.key, a.p.FailedSignInWindow, c.limit, a.now())
		if err != nil {
			return err
		}
		if !d.Allowed {
			return ErrTooManyRequests.RetryIn(d.RetryAfter)
		}
	}
	return nil
}

// countFailure records one wrong password on every counter of b. Whether a
// count is now over its limit does not matter here: this attempt has been
// answered already, and the next one is refused by checkFailures.
func (a *Auth) countFailure(ctx context.Context, b failureBudget) error {
	for _, c := range b {
		if _, err := a.d.Limiter.Consume(ctx, c.key, a.p.FailedSignInWindow, c.limit, a.now()); err != nil {
			return err
		}
	}
	return nil
}

// liftFailures forgets the wrong passwords counted against the account of
// email, on every network; known devices keep their own counts.
func (a *Auth) liftFailures(ctx context.Context, email string) error {
	if err := a.d.Limiter.Reset(ctx, accountKey(email)); err != nil {
		return err
	}
	return a.d.Limiter.ResetPrefix(ctx, networkKeyPrefix(email))
}

// Counter keys name emails, networks and devices by digests: counters are
// stored (in table rate_limit with the database limiter) and must not keep
// a list of the addresses someone tried, most of which may have no account,
// nor of the clients that tried them.
func accountKey(email string) string { return keyFailedSignIn + digest(email) }

func networkKeyPrefix(email string) string { return keyFailedSignInNetwork + digest(email) + ":" }

// networkKey digests the network together with the email, so that the key
// cannot be matched against the 2^24 IPv4 networks on its own.
func networkKey(email, ip string) string {
	return networkKeyPrefix(email) + digest(email+"|"+clientNetwork(ip))
}

func deviceKey(d KnownDevice) string { return keyFailedSignInDevice + digest(d.UserID+"|"+d.ID) }

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// clientNetwork is the network an address is counted under: its /24 for
// IPv4 (and IPv4-mapped IPv6), its /64 for IPv6, the block one subscriber
// usually holds. Clients whose address is unknown or malformed share "".
func clientNetwork(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	addr = addr.Unmap()
	bits := 64
	if addr.Is4() {
		bits = 24
	}
	p, err := addr.WithZone("").Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
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
