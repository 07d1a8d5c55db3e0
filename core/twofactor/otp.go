package twofactor

import (
	"context"
	"crypto/subtle"
	"errors"
	"strconv"
	"strings"

	"github.com/authd/authd/core"
)

// otpKey names the caller's OTP row: the challenge, or the user and session.
func otpKey(c Caller, user core.User, ch *challengeState) string {
	if ch != nil {
		return otpPrefix + ch.id
	}
	return otpPrefix + user.ID() + "!" + c.Session.Session.ID()
}

// SendOTP mails a new 6-digit code, valid 180 s; it replaces any earlier
// one (the newest row wins).
func (s *Service) SendOTP(ctx context.Context, c Caller) error {
	user, ch, err := s.resolve(ctx, c)
	if err != nil {
		return err
	}
	code, err := s.random(otpDigits, digits)
	if err != nil {
		return err
	}
	if err := s.store(ctx, otpKey(c, user, ch), code+":0", s.now().Add(otpTTL)); err != nil {
		return err
	}
	// The code alone on a line, so that a reader (or a test) finds it.
	// Delivery failures are the mail adapter's to log: the answer must not
	// depend on them.
	_ = s.d.Mailer.Send(ctx, core.Mail{To: user.Email(), Subject: "Your verification code",
		Text: "Your verification code:\n\n" + code + "\n\nIt expires in 3 minutes.\n"})
	return nil
}

// VerifyOTP checks a mailed code. Each code allows 5 tries; in challenge
// mode a user with a two_factor row is also subject to the account lock.
func (s *Service) VerifyOTP(ctx context.Context, c Caller, in VerifyInput) (Result, error) {
	user, ch, err := s.resolve(ctx, c)
	if err != nil {
		return Result{}, err
	}
	var rec *Record
	if ch != nil {
		r, err := s.d.Repo.ByUser(ctx, user.ID())
		switch {
		case err == nil:
			rec = &r
			if err := s.checkLock(ctx, r); err != nil {
				return Result{}, err
			}
		case !errors.Is(err, ErrNotFound):
			return Result{}, err
		}
	}
	key := otpKey(c, user, ch)
	v, err := s.d.Verifications.Consume(ctx, key)
	if errors.Is(err, core.ErrVerificationNotFound) {
		return Result{}, ErrOTPHasExpired
	}
	if err != nil {
		return Result{}, err
	}
	if v.Expired(s.now()) {
		return Result{}, ErrOTPHasExpired
	}
	code, counter, _ := strings.Cut(v.Value(), ":")
	tries, _ := strconv.Atoi(counter)
	if tries >= attemptsAllowed {
		return Result{}, ErrTooManyAttempts
	}
	if subtle.ConstantTimeCompare([]byte(code), []byte(in.Code)) != 1 {
		if err := s.store(ctx, key, code+":"+strconv.Itoa(tries+1), v.ExpiresAt()); err != nil {
			return Result{}, err
		}
		if rec != nil {
			if err := s.d.Repo.AddFailure(ctx, rec.ID, lockoutFailures, s.now().Add(lockoutDuration)); err != nil {
				return Result{}, err
			}
		}
		return Result{}, ErrInvalidCode
	}
	reset := func(ctx context.Context) error {
		if rec == nil {
			return nil
		}
		return s.d.Repo.ResetFailures(ctx, rec.ID)
	}
	if ch != nil && !user.TwoFactorEnabled() {
		// Two-factor was turned off while the challenge was open.
		return Result{}, ErrChallengeUserOff
	}
	if ch != nil {
		return s.finish(ctx, ch, c, in, reset)
	}
	if user.TwoFactorEnabled() {
		return Result{User: user, Token: c.Session.Session.Token()}, nil
	}
	// A right code from a user without two-factor turns it on (OTP-only
	// enrolment), answering with the rotated session.
	var out Result
	err = s.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		view, err := s.turnOn(ctx, *c.Session)
		out = Result{User: view.User, Token: view.Session.Token(), Session: &view}
		return err
	})
	return out, err
}
