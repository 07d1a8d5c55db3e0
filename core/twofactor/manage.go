package twofactor

import (
	"context"
	"encoding/base32"
	"encoding/json"
	"errors"
	"strings"

	"github.com/authd/authd/core"
	"github.com/authd/authd/core/jsuri"
)

// EnableInput is the body of /two-factor/enable.
type EnableInput struct {
	Password string
	Method   string // MethodTOTP (default) or MethodOTP
	Issuer   string // overrides Options.Issuer when set
	Meta     core.RequestMeta
}

// EnableResult answers /two-factor/enable. Session is the rotated session
// when the method took effect at once (OTP).
type EnableResult struct {
	Method      string
	TOTPURI     string
	BackupCodes []string
	Session     *core.SessionView
}

// Enable starts enrolment. TOTP stores an unverified row with a new secret
// and backup codes (the flag waits for the first right code); OTP turns
// two-factor on at once and rotates the session.
func (s *Service) Enable(ctx context.Context, v core.SessionView, in EnableInput) (EnableResult, error) {
	if err := s.checkPassword(ctx, v.User, in.Password, in.Meta); err != nil {
		return EnableResult{}, err
	}
	if in.Method == MethodOTP {
		var out EnableResult
		err := s.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
			view, err := s.turnOn(ctx, v)
			out = EnableResult{Method: MethodOTP, Session: &view}
			return err
		})
		return out, err
	}
	secret, err := s.random(secretLength, urlSafe)
	if err != nil {
		return EnableResult{}, err
	}
	codes, sealedCodes, err := s.newBackupCodes()
	if err != nil {
		return EnableResult{}, err
	}
	sealedSecret, err := s.d.Keys.Seal(secret)
	if err != nil {
		return EnableResult{}, err
	}
	err = s.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		rec, err := s.d.Repo.ByUser(ctx, v.User.ID())
		switch {
		case err == nil && rec.Verified:
			return ErrTOTPAlreadyEnabled
		case errors.Is(err, ErrNotFound):
			if rec.ID, err = s.random(32, alphanumeric); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		return s.d.Repo.Put(ctx, Record{ID: rec.ID, UserID: v.User.ID(), Secret: sealedSecret,
			BackupCodes: sealedCodes, Verified: false})
	})
	if err != nil {
		return EnableResult{}, err
	}
	issuer := in.Issuer
	if issuer == "" {
		issuer = s.o.Issuer
	}
	return EnableResult{Method: MethodTOTP, TOTPURI: totpURI([]byte(secret), issuer, v.User.Email()),
		BackupCodes: codes}, nil
}

// turnOn sets the user's flag and rotates the session (inside a
// transaction).
func (s *Service) turnOn(ctx context.Context, v core.SessionView) (core.SessionView, error) {
	now := s.now()
	if err := s.d.Repo.SetUserEnabled(ctx, v.User.ID(), true, now); err != nil {
		return core.SessionView{}, err
	}
	sess, err := s.auth.RotateSession(ctx, v.Session)
	if err != nil {
		return core.SessionView{}, err
	}
	u := v.User
	u.SetTwoFactorEnabled(true, now)
	return core.SessionView{Session: sess, User: u}, nil
}

// TOTPURI answers /two-factor/get-totp-uri: the enrolment URI again, for a
// row verified or not.
func (s *Service) TOTPURI(ctx context.Context, v core.SessionView, password string, meta core.RequestMeta) (string, error) {
	rec, err := s.d.Repo.ByUser(ctx, v.User.ID())
	if errors.Is(err, ErrNotFound) {
		return "", ErrTOTPNotEnabled
	}
	if err != nil {
		return "", err
	}
	key, err := s.totpKey(rec)
	if err != nil {
		return "", err
	}
	if err := s.checkPassword(ctx, v.User, password, meta); err != nil {
		return "", err
	}
	return totpURI(key, s.o.Issuer, v.User.Email()), nil
}

// DisableResult answers /two-factor/disable: the rotated session, and
// whether the trusted-device cookie is to be cleared.
type DisableResult struct {
	Session    core.SessionView
	ClearTrust bool
}

// Disable turns two-factor off: the flag, the row, the session (rotated)
// and the device trusted by trustDevice (the client's signature-checked
// cookie), if any.
func (s *Service) Disable(ctx context.Context, v core.SessionView, password, trustDevice string, meta core.RequestMeta) (DisableResult, error) {
	if err := s.checkPassword(ctx, v.User, password, meta); err != nil {
		return DisableResult{}, err
	}
	var out DisableResult
	err := s.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		now := s.now()
		if err := s.d.Repo.SetUserEnabled(ctx, v.User.ID(), false, now); err != nil {
			return err
		}
		if err := s.d.Repo.DeleteByUser(ctx, v.User.ID()); err != nil {
			return err
		}
		sess, err := s.auth.RotateSession(ctx, v.Session)
		if err != nil {
			return err
		}
		u := v.User
		u.SetTwoFactorEnabled(false, now)
		out.Session = core.SessionView{Session: sess, User: u}
		if trustDevice == "" {
			return nil
		}
		out.ClearTrust = true
		if _, id, ok := strings.Cut(trustDevice, "!"); ok && id != "" {
			if _, err := s.d.Verifications.Consume(ctx, id); err != nil && !errors.Is(err, core.ErrVerificationNotFound) {
				return err
			}
		}
		return nil
	})
	return out, err
}

// GenerateBackupCodes replaces the user's backup codes with 10 new ones.
func (s *Service) GenerateBackupCodes(ctx context.Context, v core.SessionView, password string, meta core.RequestMeta) ([]string, error) {
	if !v.User.TwoFactorEnabled() {
		return nil, ErrTwoFactorNotEnabled
	}
	if err := s.checkPassword(ctx, v.User, password, meta); err != nil {
		return nil, err
	}
	rec, err := s.d.Repo.ByUser(ctx, v.User.ID())
	if errors.Is(err, ErrNotFound) {
		return nil, ErrTwoFactorNotEnabled
	}
	if err != nil {
		return nil, err
	}
	codes, sealed, err := s.newBackupCodes()
	if err != nil {
		return nil, err
	}
	if err := s.d.Repo.SetBackupCodes(ctx, rec.ID, sealed); err != nil {
		return nil, err
	}
	return codes, nil
}

// checkPassword is better-auth's password check on these routes: no
// credential account is a wrong password.
func (s *Service) checkPassword(ctx context.Context, u core.User, password string, meta core.RequestMeta) error {
	if password == "" {
		return core.ErrInvalidPassword
	}
	err := s.auth.CheckPassword(ctx, u, password, meta)
	if errors.Is(err, core.ErrCredentialAccountMissing) {
		return core.ErrInvalidPassword
	}
	return err
}

// newBackupCodes draws 10 codes "xxxxx-xxxxx" and seals their JSON list.
func (k *kit) newBackupCodes() ([]string, string, error) {
	codes := make([]string, backupCodeCount)
	for i := range codes {
		c, err := k.random(10, alphanumeric)
		if err != nil {
			return nil, "", err
		}
		codes[i] = c[:5] + "-" + c[5:]
	}
	sealed, err := k.sealCodes(codes)
	return codes, sealed, err
}

func (k *kit) sealCodes(codes []string) (string, error) {
	raw, err := json.Marshal(codes)
	if err != nil {
		return "", err
	}
	return k.d.Keys.Seal(string(raw))
}

// openCodes reads a sealed JSON list; a list that does not open or parse
// holds no code, as in better-auth.
func (k *kit) openCodes(sealed string) []string {
	plain, err := k.d.Keys.Open(sealed)
	if err != nil {
		return nil
	}
	var codes []string
	if json.Unmarshal([]byte(plain), &codes) != nil {
		return nil
	}
	return codes
}

// totpKey is the HMAC key of rec's secret: the UTF-8 bytes of the stored
// text, or for an imported "base32:<text>" its decoding.
func (k *kit) totpKey(rec Record) ([]byte, error) {
	secret, err := k.d.Keys.Open(rec.Secret)
	if err != nil {
		return nil, err
	}
	if b32, ok := strings.CutPrefix(secret, "base32:"); ok {
		return base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(strings.ToUpper(b32), "="))
	}
	return []byte(secret), nil
}

// totpURI is @better-auth/utils' otpauth URI.
func totpURI(key []byte, issuer, account string) string {
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(key)
	var b strings.Builder
	b.WriteString("otpauth://totp/" + jsuri.EncodeURIComponent(issuer) + ":" + jsuri.EncodeURIComponent(account) + "?secret=")
	jsuri.FormEscape(&b, secret)
	b.WriteString("&issuer=")
	jsuri.FormEscape(&b, issuer)
	b.WriteString("&digits=6&period=30")
	return b.String()
}
