// Package emailtoken signs and parses better-auth's HS256 email-verification
// tokens (JWTs), byte for byte as better-auth 1.7.25 does.
package emailtoken

import (
	"errors"
	"math"
	"time"

	// golang-jwt is maintained, and its parser takes an explicit list of
	// accepted algorithms, so "alg":"none" or an RS/HS confusion cannot slip in.
	"github.com/golang-jwt/jwt/v5"

	"github.com/authd/authd/core"
)

// ErrEmptySecret is returned by NewJWTSigner: an empty HMAC key would let
// anyone mint verification tokens.
var ErrEmptySecret = errors.New("jwt signer: empty secret")

// emailClaims mirrors the payload better-auth signs in
// createEmailVerificationToken. The field order is the JSON key order, which
// makes our tokens byte-identical to better-auth's for the same input.
// better-auth drops undefined keys, hence omitempty on the optional ones.
// iat and exp are plain numbers because jose rejects anything else, where
// jwt.NumericDate would also accept a numeric string.
type emailClaims struct {
	Email       string   `json:"email"`
	UpdateTo    string   `json:"updateTo,omitempty"`
	RequestType string   `json:"requestType,omitempty"`
	UserID      string   `json:"userId,omitempty"`
	IssuedAt    *float64 `json:"iat,omitempty"`
	ExpiresAt   *float64 `json:"exp,omitempty"`
}

func (c emailClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return numericDate(c.ExpiresAt), nil
}
func (c emailClaims) GetIssuedAt() (*jwt.NumericDate, error)  { return numericDate(c.IssuedAt), nil }
func (c emailClaims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }
func (c emailClaims) GetIssuer() (string, error)              { return "", nil }
func (c emailClaims) GetSubject() (string, error)             { return "", nil }
func (c emailClaims) GetAudience() (jwt.ClaimStrings, error)  { return nil, nil }

// numericDate rounds up: jose calls a token expired when exp <= floor(now),
// which for a fractional exp is the same as now >= ceil(exp).
func numericDate(sec *float64) *jwt.NumericDate {
	if sec == nil {
		return nil
	}
	return jwt.NewNumericDate(time.Unix(int64(math.Ceil(*sec)), 0))
}

// JWTSigner implements core.EmailTokenSigner with better-auth's HS256 tokens
// keyed with the app secret, so links mailed by either server verify on both.
type JWTSigner struct {
	key []byte
}

// NewJWTSigner keys the signer with the UTF-8 bytes of the app secret.
func NewJWTSigner(secret []byte) (*JWTSigner, error) {
	if len(secret) == 0 {
		return nil, ErrEmptySecret
	}
	return &JWTSigner{key: append([]byte(nil), secret...)}, nil
}

// Sign issues a token valid for whole seconds from now: iat = floor(now) and
// exp = iat + ttl, as jose does in better-auth.
func (s *JWTSigner) Sign(c core.EmailClaims, now time.Time, ttl time.Duration) (string, error) {
	iat := float64(now.Unix())
	exp := iat + float64(ttl/time.Second)
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, emailClaims{
		Email:       c.Email,
		UpdateTo:    c.UpdateTo,
		RequestType: c.RequestType,
		UserID:      c.UserID,
		IssuedAt:    &iat,
		ExpiresAt:   &exp,
	})
	// better-auth's protected header is exactly {"alg":"HS256"}.
	delete(t.Header, "typ")
	return t.SignedString(s.key)
}

// Parse accepts only HS256 tokens signed with our key that carry a valid
// email and have not expired at now (no leeway, like jose without
// clockTolerance). The returned email is lower-case.
func (s *JWTSigner) Parse(token string, now time.Time) (core.EmailClaims, error) {
	var c emailClaims
	_, err := jwt.ParseWithClaims(token, &c,
		func(*jwt.Token) (any, error) { return s.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		// golang-jwt checks the signature before the claims, so only a
		// genuine token can be reported as expired.
		return core.EmailClaims{}, core.ErrTokenExpired.With(err)
	case err != nil:
		return core.EmailClaims{}, core.ErrInvalidToken.With(err)
	}
	email, err := core.NormalizeEmail(c.Email)
	if err != nil {
		return core.EmailClaims{}, core.ErrInvalidToken.With(err)
	}
	return core.EmailClaims{Email: email, UpdateTo: c.UpdateTo, RequestType: c.RequestType, UserID: c.UserID}, nil
}
