// Package twofactorcrypto implements core/twofactor's Keys and Codes as
// better-auth's twoFactor plugin computes them: secrets and backup codes
// sealed with better-auth's symmetric encryption under the app secret,
// trusted-device MACs (HMAC-SHA256, base64url), and RFC 6238 codes
// (HMAC-SHA1, 6 digits, 30 s steps, one step either side).
package twofactorcrypto

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"go.uber.org/fx"

	"github.com/authd/authd/adapters/internal/secretbox"
	"github.com/authd/authd/core/twofactor"
)

// Secret is the app secret (APP_SECRET).
type Secret string

// Keys is twofactor.Keys under one app secret.
type Keys struct {
	box    *secretbox.Box
	secret []byte
}

var _ twofactor.Keys = (*Keys)(nil)

func NewKeys(secret Secret) *Keys {
	return &Keys{box: secretbox.New(string(secret)), secret: []byte(secret)}
}

func (k *Keys) Seal(plain string) (string, error) { return k.box.Seal([]byte(plain)) }

func (k *Keys) Open(sealed string) (string, error) {
	plain, err := k.box.Open(sealed)
	return string(plain), err
}

func (k *Keys) TrustMAC(userID, identifier string) string {
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(userID + "!" + identifier))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Codes is twofactor.Codes.
type Codes struct{}

var _ twofactor.Codes = Codes{}

const period = 30

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Match compares code, as sent, with the codes of now's step and its two
// neighbours; every candidate is compared, so the time taken does not tell
// which matched.
func (Codes) Match(key []byte, code string, now time.Time) (int64, bool) {
	secret := b32.EncodeToString(key)
	current := now.Unix() / period
	var step int64
	found := false
	for s := current - 1; s <= current+1; s++ {
		want, err := hotp.GenerateCodeCustom(secret, uint64(s), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && !found {
			step, found = s, true
		}
	}
	return step, found
}

// Module provides Keys and Codes as core/twofactor's ports; it needs a
// Secret in the graph.
var Module = fx.Module("twofactorcrypto",
	fx.Provide(
		fx.Annotate(NewKeys, fx.As(new(twofactor.Keys))),
		fx.Annotate(func() Codes { return Codes{} }, fx.As(new(twofactor.Codes))),
	),
)
