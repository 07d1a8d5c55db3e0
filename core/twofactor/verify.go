package twofactor

import (
	"context"
	"crypto/subtle"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authd/authd/core"
)

// Caller is who asks to verify a code: a signed-in user (Session set:
// enrolment and re-checks) or a browser holding a sign-in challenge.
type Caller struct {
	Session *core.SessionView
	// Challenge is the two_factor cookie's value with its signature
	// checked ("" when absent or forged).
	Challenge string
	// DontRemember is the dont_remember cookie: the password step had
	// rememberMe:false, which the completed challenge honours.
	DontRemember bool
	Meta         core.RequestMeta
}

// VerifyInput is the body of the verify routes.
type VerifyInput struct {
	Code        string
	TrustDevice bool
	// DisableSession (verify-backup-code only) checks the code without
	// completing the challenge.
	DisableSession bool
}

// Result answers a verify route. The HTTP adapter applies its cookie
// effects even when the flow also returns an error.
type Result struct {
	User core.User
	// Token is the token the body carries; "" leaves it out.
	Token string
	// Session, when set, is a session whose cookie is to be set: the
	// completed challenge's, or one rotated by enrolment.
	Session *core.SessionView
	// TrustDevice is the trusted-device cookie's value to set; the
	// dont_remember cookie is then cleared.
	TrustDevice    string
	ClearChallenge bool
}

// challengeState is a live challenge: its id, row and user.
type challengeState struct {
	id      string
	expires time.Time
	user    core.User
}

// resolve finds the caller's user: the session's, or the challenge's.
func (s *Service) resolve(ctx context.Context, c Caller) (core.User, *challengeState, error) {
	if c.Session != nil {
		return c.Session.User, nil, nil
	}
	if !strings.HasPrefix(c.Challenge, challengePrefix) || strings.HasPrefix(c.Challenge, attemptsPrefix) ||
		strings.HasPrefix(c.Challenge, otpPrefix) {
		return core.User{}, nil, ErrInvalidTwoFactorCookie
	}
	v, err := s.d.Verifications.Latest(ctx, c.Challenge)
	if errors.Is(err, core.ErrVerificationNotFound) {
		return core.User{}, nil, ErrInvalidTwoFactorCookie
	}
	if err != nil {
		return core.User{}, nil, err
	}
	u, err := s.d.Users.ByID(ctx, v.Value())
	if errors.Is(err, core.ErrUserNotFound) {
		return core.User{}, nil, ErrInvalidTwoFactorCookie
	}
	if err != nil {
		return core.User{}, nil, err
	}
	return u, &challengeState{id: c.Challenge, expires: v.ExpiresAt(), user: u}, nil
}

// complete ends a challenge with a session (inside the transaction that
// spent the proof): the challenge row is consumed first, so a replayed
// completion fails, and the session honours rememberMe.
func (s *Service) complete(ctx context.Context, ch *challengeState, c Caller, trustDevice bool) (Result, error) {
	v, err := s.d.Verifications.Consume(ctx, ch.id)
	if errors.Is(err, core.ErrVerificationNotFound) {
		return Result{}, ErrInvalidTwoFactorCookie
	}
	if err != nil {
		return Result{}, err
	}
	if v.Expired(s.now()) || v.Value() != ch.user.ID() {
		return Result{}, ErrInvalidTwoFactorCookie
	}
	sess, err := s.auth.IssueSession(ctx, core.SessionGrant{UserID: ch.user.ID(), DontRemember: c.DontRemember, Meta: c.Meta})
	if err != nil {
		return Result{}, err
	}
	out := Result{User: ch.user, Token: sess.Token(), Session: &core.SessionView{Session: sess, User: ch.user},
		ClearChallenge: true}
	if trustDevice {
		if out.TrustDevice, err = s.trust(ctx, ch.user.ID()); err != nil {
			return Result{}, err
		}
	}
	return out, nil
}

// finish completes a challenge inside a transaction with spend, the step
// that uses up the proof; a failed completion keeps the proof. A challenge
// that is gone clears its cookie.
func (s *Service) finish(ctx context.Context, ch *challengeState, c Caller, in VerifyInput, spend func(ctx context.Context) error) (Result, error) {
	var out Result
	err := s.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		if err := spend(ctx); err != nil {
			return err
		}
		var err error
		out, err = s.complete(ctx, ch, c, in.TrustDevice)
		return err
	})
	if errors.Is(err, ErrInvalidTwoFactorCookie) {
		return Result{ClearChallenge: true}, err
	}
	return out, err
}

// checkLock refuses while rec's account is locked, and lifts a lock that
// has run out.
func (s *Service) checkLock(ctx context.Context, rec Record) error {
	if rec.LockedUntil == nil {
		return nil
	}
	now := s.now()
	if rec.LockedUntil.After(now) {
		return ErrAccountLocked.RetryIn(rec.LockedUntil.Sub(now))
	}
	return s.d.Repo.ClearExpiredLock(ctx, rec.ID, now)
}

// attempt spends one of the challenge's attempts (TOTP and backup codes
// share them). It returns how many were spent before; at the limit the
// challenge ends.
func (s *Service) attempt(ctx context.Context, ch *challengeState) (int, Result, error) {
	v, err := s.d.Verifications.Consume(ctx, attemptsPrefix+ch.id)
	if errors.Is(err, core.ErrVerificationNotFound) {
		return 0, Result{}, ErrInvalidTwoFactorCookie
	}
	if err != nil {
		return 0, Result{}, err
	}
	if v.Expired(s.now()) {
		return 0, Result{}, ErrInvalidTwoFactorCookie
	}
	n, err := strconv.Atoi(v.Value())
	if err != nil || n < 0 {
		n = attemptsAllowed
	}
	if n >= attemptsAllowed {
		if _, err := s.d.Verifications.Consume(ctx, ch.id); err != nil && !errors.Is(err, core.ErrVerificationNotFound) {
			return 0, Result{}, err
		}
		return 0, Result{ClearChallenge: true}, ErrTooManyAttempts
	}
	return n, Result{}, nil
}

// rearm writes the challenge's attempt count back.
func (s *Service) rearm(ctx context.Context, ch *challengeState, n int) error {
	return s.store(ctx, attemptsPrefix+ch.id, strconv.Itoa(n), ch.expires)
}

// fail records a wrong code in challenge mode: one more attempt spent and
// one more failure toward the account's lock.
func (s *Service) fail(ctx context.Context, ch *challengeState, spent int, rec *Record) error {
	if ch != nil {
		if err := s.rearm(ctx, ch, spent+1); err != nil {
			return err
		}
	}
	if ch != nil && rec != nil {
		return s.d.Repo.AddFailure(ctx, rec.ID, lockoutFailures, s.now().Add(lockoutDuration))
	}
	return nil
}

// proof is a TOTP or backup-code check about to be made: whose it is, their
// two_factor row and, with a challenge, the attempts spent before this one.
type proof struct {
	user  core.User
	ch    *challengeState
	rec   Record
	spent int
}

// begin resolves the caller and their two_factor row (notEnabled when there
// is none or, if confirmed is set, when a challenge finds an enrolment not
// yet confirmed) and, with a challenge, refuses a locked account and spends
// one attempt. The Result carries a cookie effect of a failed attempt.
func (s *Service) begin(ctx context.Context, c Caller, notEnabled error, confirmed bool) (proof, Result, error) {
	user, ch, err := s.resolve(ctx, c)
	if err != nil {
		return proof{}, Result{}, err
	}
	rec, err := s.d.Repo.ByUser(ctx, user.ID())
	if errors.Is(err, ErrNotFound) || (err == nil && confirmed && ch != nil && !rec.Verified) {
		return proof{}, Result{}, notEnabled
	}
	if err != nil {
		return proof{}, Result{}, err
	}
	p := proof{user: user, ch: ch, rec: rec}
	if ch != nil {
		if err := s.checkLock(ctx, rec); err != nil {
			return proof{}, Result{}, err
		}
		var out Result
		if p.spent, out, err = s.attempt(ctx, ch); err != nil {
			return proof{}, out, err
		}
	}
	return p, Result{}, nil
}

// VerifyTOTP checks an authenticator code: in session mode it confirms
// enrolment (the first right code turns two-factor on and rotates the
// session); with a challenge it completes the sign-in. A code is accepted
// once: its time step, and every earlier one, is refused afterwards.
func (s *Service) VerifyTOTP(ctx context.Context, c Caller, in VerifyInput) (Result, error) {
	p, out, err := s.begin(ctx, c, ErrTOTPNotEnabled, true)
	if err != nil {
		return out, err
	}
	user, ch, rec, spent := p.user, p.ch, p.rec, p.spent
	key, err := s.totpKey(rec)
	if err != nil {
		if ch != nil {
			err = errors.Join(err, s.rearm(ctx, ch, spent))
		}
		return Result{}, err
	}
	step, ok := s.d.Codes.Match(key, in.Code, s.now())
	claim := func(ctx context.Context) error { return s.claimStep(ctx, user.ID(), step) }
	if ok && ch != nil {
		out, err := s.finish(ctx, ch, c, in, func(ctx context.Context) error {
			if err := claim(ctx); err != nil {
				return err
			}
			return s.d.Repo.ResetFailures(ctx, rec.ID)
		})
		if !errors.Is(err, ErrInvalidCode) {
			return out, err
		}
	} else if ok {
		return s.confirmEnrolment(ctx, *c.Session, rec, claim)
	}
	if err := s.fail(ctx, ch, spent, &rec); err != nil {
		return Result{}, err
	}
	return Result{}, ErrInvalidCode
}

// claimStep records step as userID's last accepted TOTP step, refusing
// (ErrInvalidCode) a step not after the last one. It reads the user's
// two_factor row first, which holds the row for the transaction, so that
// of two requests with one code only one claims it.
func (s *Service) claimStep(ctx context.Context, userID string, step int64) error {
	if _, err := s.d.Repo.ByUser(ctx, userID); err != nil {
		return err
	}
	id := usedStepPrefix + userID
	v, err := s.d.Verifications.Consume(ctx, id)
	switch {
	case err == nil:
		if last, perr := strconv.ParseInt(v.Value(), 10, 64); perr == nil && last >= step && !v.Expired(s.now()) {
			return ErrInvalidCode
		}
	case !errors.Is(err, core.ErrVerificationNotFound):
		return err
	}
	// Past the window that could still accept the step, it needs no
	// memory.
	until := time.Unix(0, 0).Add(time.Duration(step+2) * totpPeriod)
	return s.store(ctx, id, strconv.FormatInt(step, 10), until)
}

// confirmEnrolment answers a right TOTP code in session mode. As in
// better-auth, the body describes the calling session even when the first
// right code rotated it.
func (s *Service) confirmEnrolment(ctx context.Context, v core.SessionView, rec Record, claim func(context.Context) error) (Result, error) {
	out := Result{User: v.User, Token: v.Session.Token()}
	err := s.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		if err := claim(ctx); err != nil {
			return err
		}
		if rec.Verified {
			return nil
		}
		if !v.User.TwoFactorEnabled() {
			view, err := s.turnOn(ctx, v)
			if err != nil {
				return err
			}
			out.Session = &view
		}
		return s.d.Repo.SetVerified(ctx, rec.ID)
	})
	if err != nil {
		return Result{}, err
	}
	return out, nil
}

// VerifyBackupCode spends one backup code. A code works once: the list is
// rewritten only while it is still the one the code was found in.
func (s *Service) VerifyBackupCode(ctx context.Context, c Caller, in VerifyInput) (Result, error) {
	p, out, err := s.begin(ctx, c, ErrBackupCodesNotEnabled, false)
	if err != nil {
		return out, err
	}
	user, ch, rec, spent := p.user, p.ch, p.rec, p.spent
	codes := s.openCodes(rec.BackupCodes)
	i := slices.IndexFunc(codes, func(code string) bool {
		return subtle.ConstantTimeCompare([]byte(code), []byte(in.Code)) == 1
	})
	if i < 0 {
		if err := s.fail(ctx, ch, spent, &rec); err != nil {
			return Result{}, err
		}
		return Result{}, ErrInvalidBackupCode
	}
	rest, err := s.sealCodes(slices.Delete(codes, i, i+1))
	if err != nil {
		return Result{}, err
	}
	spend := func(ctx context.Context) error {
		ok, err := s.d.Repo.SwapBackupCodes(ctx, rec.ID, rec.BackupCodes, rest)
		if err != nil {
			return err
		}
		if !ok {
			return ErrBackupCodeRace
		}
		if ch != nil {
			return s.d.Repo.ResetFailures(ctx, rec.ID)
		}
		return nil
	}
	if ch != nil && !in.DisableSession {
		return s.finish(ctx, ch, c, in, spend)
	}
	if err := s.d.Tx.WithinTx(ctx, spend); err != nil {
		return Result{}, err
	}
	out = Result{User: user}
	if c.Session != nil {
		out.Token = c.Session.Session.Token()
	}
	return out, nil
}
