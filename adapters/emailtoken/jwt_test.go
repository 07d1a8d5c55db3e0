package emailtoken_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"hash"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/adapters/emailtoken"
	"github.com/authd/authd/core"
)

var _ core.EmailTokenSigner = (*emailtoken.JWTSigner)(nil)

// The secret of the spec's worked examples (§5.3, §8.1).
const specSecret = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz"

var (
	iat = time.Unix(1700000000, 0)
	exp = time.Unix(1700003600, 0)
)

// Tokens made by jose's SignJWT exactly as better-auth's
// createEmailVerificationToken builds them, with iat pinned to 1700000000;
// the first is the spec's §8.1 deterministic example.
var betterAuthTokens = []struct {
	name   string
	claims core.EmailClaims
	token  string
}{
	{"spec-8.1", core.EmailClaims{Email: "alice@example.com", UserID: "u1"},
		"eyJhbGciOiJIUzI1NiJ9.eyJlbWFpbCI6ImFsaWNlQGV4YW1wbGUuY29tIiwidXNlcklkIjoidTEiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0.AcCxahRS06pvCgnCLnFLysiO_Fvm6_PDuYunszq38vY"},
	{"change-email", core.EmailClaims{Email: "alice@example.com", UpdateTo: "alice2@example.com", RequestType: "change-email-confirmation", UserID: "u1"},
		"eyJhbGciOiJIUzI1NiJ9.eyJlbWFpbCI6ImFsaWNlQGV4YW1wbGUuY29tIiwidXBkYXRlVG8iOiJhbGljZTJAZXhhbXBsZS5jb20iLCJyZXF1ZXN0VHlwZSI6ImNoYW5nZS1lbWFpbC1jb25maXJtYXRpb24iLCJ1c2VySWQiOiJ1MSIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAzNjAwfQ.TaPAvT_tmFuq_RD6kZEUcm54FfhWThPdk6_w55W-ND8"},
	{"no-user", core.EmailClaims{Email: "ghost@example.com"},
		"eyJhbGciOiJIUzI1NiJ9.eyJlbWFpbCI6Imdob3N0QGV4YW1wbGUuY29tIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDM2MDB9.kJ3XYV1nJnToSupocwTeepaMQCXRdvUp-vyBUMwCu_o"},
}

func newSigner(t testing.TB, secret string) *emailtoken.JWTSigner {
	t.Helper()
	s, err := emailtoken.NewJWTSigner([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSignMatchesBetterAuthByteForByte(t *testing.T) {
	s := newSigner(t, specSecret)
	for _, tc := range betterAuthTokens {
		// A sub-second clock must not leak into iat or exp.
		got, err := s.Sign(tc.claims, iat.Add(999*time.Millisecond), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.token {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.token)
		}
		back, err := s.Parse(tc.token, iat)
		if err != nil || back != tc.claims {
			t.Errorf("%s: Parse = %+v, %v; want %+v", tc.name, back, err, tc.claims)
		}
	}
}

func TestParseExpiryHasNoLeeway(t *testing.T) {
	s := newSigner(t, specSecret)
	tok := betterAuthTokens[0].token
	if _, err := s.Parse(tok, exp.Add(-time.Nanosecond)); err != nil {
		t.Fatalf("just before exp: %v", err)
	}
	for _, now := range []time.Time{exp, exp.Add(time.Second), exp.Add(24 * time.Hour)} {
		_, err := s.Parse(tok, now)
		if !errors.Is(err, core.ErrTokenExpired) {
			t.Errorf("at %v: err = %v, want ErrTokenExpired", now.Sub(exp), err)
		}
	}
}

func TestParseRejectsTampering(t *testing.T) {
	s := newSigner(t, specSecret)
	good := betterAuthTokens[0].token
	parts := strings.Split(good, ".")
	enc := base64.RawURLEncoding.EncodeToString
	sign := func(newHash func() hash.Hash, key, header, payload string) string {
		si := enc([]byte(header)) + "." + enc([]byte(payload))
		m := hmac.New(newHash, []byte(key))
		m.Write([]byte(si))
		return si + "." + enc(m.Sum(nil))
	}
	const payload = `{"email":"alice@example.com","userId":"u1","iat":1700000000,"exp":1700003600}`
	cases := map[string]string{
		"alg none":          enc([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".",
		"alg none unsigned": enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1],
		"HS512 same key":    sign(sha512.New, specSecret, `{"alg":"HS512"}`, payload),
		"HS384 same key":    sign(sha512.New384, specSecret, `{"alg":"HS384"}`, payload),
		"RS256 header":      enc([]byte(`{"alg":"RS256"}`)) + "." + parts[1] + "." + parts[2],
		"other key":         sign(sha256.New, specSecret+"x", `{"alg":"HS256"}`, payload),
		"edited payload":    parts[0] + "." + enc([]byte(strings.Replace(payload, "alice", "mallory", 1))) + "." + parts[2],
		"extended exp":      parts[0] + "." + enc([]byte(strings.Replace(payload, "1700003600", "1900003600", 1))) + "." + parts[2],
		"bad signature":     parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])),
		"no signature":      parts[0] + "." + parts[1] + ".",
		"two parts":         parts[0] + "." + parts[1],
		"padded":            good + "=",
		"empty":             "",
		"garbage":           "not-a-jwt",
		"no exp":            sign(sha256.New, specSecret, `{"alg":"HS256"}`, `{"email":"alice@example.com","iat":1700000000}`),
		"no email":          sign(sha256.New, specSecret, `{"alg":"HS256"}`, `{"userId":"u1","iat":1700000000,"exp":1700003600}`),
		"invalid email":     sign(sha256.New, specSecret, `{"alg":"HS256"}`, `{"email":"alice@localhost","iat":1700000000,"exp":1700003600}`),
		"crlf email":        sign(sha256.New, specSecret, `{"alg":"HS256"}`, `{"email":"a@b.co\r\nBcc: x@y.co","iat":1700000000,"exp":1700003600}`),
		"numeric email":     sign(sha256.New, specSecret, `{"alg":"HS256"}`, `{"email":42,"iat":1700000000,"exp":1700003600}`),
		"string exp":        sign(sha256.New, specSecret, `{"alg":"HS256"}`, `{"email":"alice@example.com","exp":"1700003600"}`),
		"null exp":          sign(sha256.New, specSecret, `{"alg":"HS256"}`, `{"email":"alice@example.com","exp":null}`),
		"string iat":        sign(sha256.New, specSecret, `{"alg":"HS256"}`, `{"email":"alice@example.com","iat":"1700000000","exp":1700003600}`),
		"numeric userId":    sign(sha256.New, specSecret, `{"alg":"HS256"}`, `{"email":"alice@example.com","userId":7,"exp":1700003600}`),
		"not json":          sign(sha256.New, specSecret, `{"alg":"HS256"}`, `alice@example.com`),
	}
	for name, tok := range cases {
		_, err := s.Parse(tok, iat)
		if !errors.Is(err, core.ErrInvalidToken) {
			t.Errorf("%s: err = %v, want ErrInvalidToken", name, err)
		}
	}

	// An expired token with a forged signature is invalid, not "expired":
	// only a genuine token may say anything about its own age.
	forged := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	if _, err := s.Parse(forged, exp.Add(time.Hour)); !errors.Is(err, core.ErrInvalidToken) {
		t.Errorf("forged expired token: err = %v, want ErrInvalidToken", err)
	}
}

func TestParseFractionalExpExpiresLikeJose(t *testing.T) {
	s := newSigner(t, specSecret)
	m := hmac.New(sha256.New, []byte(specSecret))
	si := "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(`{"email":"alice@example.com","exp":1700003600.5}`))
	m.Write([]byte(si))
	tok := si + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	// jose compares exp with the current whole second.
	if _, err := s.Parse(tok, exp.Add(900*time.Millisecond)); err != nil {
		t.Fatalf("within exp's second: %v", err)
	}
	if _, err := s.Parse(tok, exp.Add(time.Second)); !errors.Is(err, core.ErrTokenExpired) {
		t.Fatalf("next second: err = %v, want ErrTokenExpired", err)
	}
}

func TestParseLowerCasesEmail(t *testing.T) {
	s := newSigner(t, specSecret)
	tok, err := s.Sign(core.EmailClaims{Email: "Alice@Example.COM", UserID: "u1"}, iat, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Parse(tok, iat)
	if err != nil || c.Email != "alice@example.com" {
		t.Fatalf("Parse = %+v, %v", c, err)
	}
}

func TestNewJWTSignerRejectsEmptySecret(t *testing.T) {
	if _, err := emailtoken.NewJWTSigner(nil); !errors.Is(err, emailtoken.ErrEmptySecret) {
		t.Fatalf("err = %v, want ErrEmptySecret", err)
	}
}

func BenchmarkJWTParse(b *testing.B) {
	s := newSigner(b, specSecret)
	tok := betterAuthTokens[1].token
	for b.Loop() {
		if _, err := s.Parse(tok, iat); err != nil {
			b.Fatal(err)
		}
	}
}
