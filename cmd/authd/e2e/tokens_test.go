package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/bunpg/bunpgtest"
	"github.com/authd/authd/adapters/verifier"
)

// pluginsOn is the configuration both servers get: better-auth's jwt and
// bearer plugins, through authd's variables (reference-auth.mjs maps them).
var pluginsOn = []string{"AUTH_JWT_ENABLED=true", "AUTH_BEARER_ENABLED=true"}

// runTokensSuite runs js/tokens.test.mjs (the JS client with jwtClient)
// against origin, expecting JWTs for issuer and audience.
func runTokensSuite(t *testing.T, db bunpg.Config, origin, issuer, audience string) {
	t.Helper()
	env := nodeEnv(db, "AUTHD_URL="+origin, "JWT_ISSUER="+issuer, "JWT_AUDIENCE="+audience)
	err := runNode(t, env, "--test", "--test-reporter=spec", "tokens.test.mjs")
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		t.Fatalf("jwt/bearer client suite failed against %s (exit %d); see the node output above", origin, exit.ExitCode())
	case err != nil:
		t.Fatalf("run node: %v", err)
	}
}

// TestReferenceTokensSuite proves the jwt/bearer suite on better-auth itself.
func TestReferenceTokensSuite(t *testing.T) {
	db, _ := bunpgtest.NewMigratedDatabase(t)
	ref := startReferenceWith(t, db, t.TempDir(), pluginsOn...)
	// better-auth's issuer and audience default to its baseURL, here the origin.
	runTokensSuite(t, db, ref.Origin, ref.Origin, ref.Origin)
}

func TestAuthdTokensSuite(t *testing.T) {
	installJS(t)
	db, _ := bunpgtest.NewMigratedDatabase(t)
	mailDir := t.TempDir()
	authd := startAuthd(t, db, startMailSink(t, mailDir), pluginsOn...)
	// authd's default is the origin of AUTH_BASE_URL (without /api).
	runTokensSuite(t, db, authd.Origin, authd.Origin, authd.Origin)
}

// TestTokensSuitesWithTwoFactor runs the suite with the twoFactor plugin on
// too, whose twoFactorEnabled the tokens carry, on both servers.
func TestTokensSuitesWithTwoFactor(t *testing.T) {
	installJS(t)
	env := append([]string{"AUTH_TWO_FACTOR_ENABLED=true"}, pluginsOn...)
	t.Run("better-auth", func(t *testing.T) {
		db, _ := bunpgtest.NewMigratedDatabase(t)
		ref := startReferenceWith(t, db, t.TempDir(), env...)
		runTokensSuite(t, db, ref.Origin, ref.Origin, ref.Origin)
	})
	t.Run("authd", func(t *testing.T) {
		db, _ := bunpgtest.NewMigratedDatabase(t)
		mailDir := t.TempDir()
		authd := startAuthd(t, db, startMailSink(t, mailDir), env...)
		runTokensSuite(t, db, authd.Origin, authd.Origin, authd.Origin)
	})
}

// client is a cookie-less caller of one server.
type client struct{ origin string }

type answer struct {
	status int
	header http.Header
	body   string
}

func (c client) call(t *testing.T, method, path, authz, body string) answer {
	t.Helper()
	var rd io.Reader = http.NoBody
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.origin+"/api/auth"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", c.origin)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header, string(b)}
}

// signUp returns the bearer token set-auth-token hands out.
func (c client) signUp(t *testing.T, email string) string {
	t.Helper()
	a := c.call(t, "POST", "/sign-up/email", "", `{"name":"Cross","email":"`+email+`","password":"correct horse battery"}`)
	if a.status != 200 || a.header.Get("set-auth-token") == "" {
		t.Fatalf("sign-up on %s: %d %s %v", c.origin, a.status, a.body, a.header)
	}
	return a.header.Get("set-auth-token")
}

func (c client) email(t *testing.T, bearer string) string {
	t.Helper()
	a := c.call(t, "GET", "/get-session", "Bearer "+bearer, "")
	var s struct{ User struct{ Email string } }
	if a.status != 200 || json.Unmarshal([]byte(a.body), &s) != nil {
		t.Fatalf("get-session on %s: %d %s", c.origin, a.status, a.body)
	}
	return s.User.Email
}

func (c client) token(t *testing.T, bearer string) string {
	t.Helper()
	a := c.call(t, "GET", "/token", "Bearer "+bearer, "")
	var v struct{ Token string }
	if a.status != 200 || json.Unmarshal([]byte(a.body), &v) != nil || v.Token == "" {
		t.Fatalf("/token on %s: %d %s", c.origin, a.status, a.body)
	}
	return v.Token
}

func (c client) verifier(t *testing.T, iss, aud string, tune ...func(*verifier.Config)) *verifier.Verifier {
	t.Helper()
	cfg := verifier.Config{JWKSURL: c.origin + "/api/auth/jwks", Issuer: iss, Audience: []string{aud}}
	for _, f := range tune {
		f(&cfg)
	}
	v, err := verifier.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestTokensAcrossServers runs authd and better-auth on one database with
// the same settings: whichever makes the signing key, both sign with it, a
// JWT from either verifies with the other's /jwks, and a bearer token from
// either works on the other.
func TestTokensAcrossServers(t *testing.T) {
	installJS(t)
	const iss, aud = "https://id.example.com", "https://api.example.com"
	env := append([]string{"AUTH_JWT_ISSUER=" + iss, "AUTH_JWT_AUDIENCE=" + aud}, pluginsOn...)
	for _, first := range []string{"authd", "better-auth"} {
		t.Run(first+" makes the key", func(t *testing.T) {
			db, bunDB := bunpgtest.NewMigratedDatabase(t)
			mailDir := t.TempDir()
			ref := client{startReferenceWith(t, db, mailDir, env...).Origin}
			authd := client{startAuthd(t, db, startMailSink(t, mailDir), env...).Origin}
			servers := []client{authd, ref}
			if first == "better-auth" {
				servers = []client{ref, authd}
			}
			names := map[client]string{authd: "authd", ref: "better-auth"}

			bearers := map[client]string{}
			for _, s := range servers {
				bearers[s] = s.signUp(t, names[s]+"-cross-"+first+"@example.com")
			}
			jwts := map[client]string{}
			for _, s := range servers { // in order: the first makes the key
				jwts[s] = s.token(t, bearers[s])
			}
			var rows int
			if err := bunDB.NewRaw("SELECT count(*) FROM jwks").Scan(t.Context(), &rows); err != nil || rows != 1 {
				t.Fatalf("%d jwks rows (%v), want the one key both sign with", rows, err)
			}
			for _, from := range servers {
				for _, to := range servers {
					if from == to {
						continue
					}
					c, err := to.verifier(t, iss, aud).Verify(t.Context(), jwts[from])
					if err != nil {
						t.Errorf("%s's JWT against %s's /jwks: %v", names[from], names[to], err)
					} else if !strings.HasPrefix(c.User.Email, names[from]+"-cross-") {
						t.Errorf("%s's JWT names %s", names[from], c.User.Email)
					}
					if got := to.email(t, bearers[from]); !strings.HasPrefix(got, names[from]+"-cross-") {
						t.Errorf("%s's bearer token on %s: session of %q", names[from], names[to], got)
					}
				}
			}
		})
	}
}

// TestVerifierAgainstAuthd checks the Go verifier on authd's real /jwks:
// a key rotation, and the tokens it must refuse.
func TestVerifierAgainstAuthd(t *testing.T) {
	installJS(t)
	db, _ := bunpgtest.NewMigratedDatabase(t)
	mailDir := t.TempDir()
	srv := startAuthd(t, db, startMailSink(t, mailDir), append([]string{
		"AUTH_JWKS_ROTATION_INTERVAL=2s", "AUTH_JWKS_GRACE_PERIOD=1h"}, pluginsOn...)...)
	c := client{srv.Origin}
	bearer := c.signUp(t, "verifier@example.com")
	tok := c.token(t, bearer)
	quick := func(cfg *verifier.Config) { cfg.MinRefetch = time.Millisecond }
	v := c.verifier(t, srv.Origin, srv.Origin, quick)
	first, err := v.Verify(t.Context(), tok)
	if err != nil || first.User.Email != "verifier@example.com" {
		t.Fatalf("authd's token: %+v, %v", first, err)
	}

	t.Run("refused", func(t *testing.T) {
		parts := strings.Split(tok, ".")
		var jwks struct{ Keys []struct{ Kid, X string } }
		a := c.call(t, "GET", "/jwks", "", "")
		if err := json.Unmarshal([]byte(a.body), &jwks); err != nil || len(jwks.Keys) == 0 {
			t.Fatalf("/jwks: %s", a.body)
		}
		x := jwks.Keys[0].X
		pub, _ := base64.RawURLEncoding.DecodeString(x)
		hs256 := func(key []byte) string {
			head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","kid":"`+first.KeyID+`"}`)) + "." + parts[1]
			m := hmac.New(sha256.New, key)
			m.Write([]byte(head))
			return head + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
		}
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		tampered := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), "verifier@", "admin@", 1)))
		cases := map[string]struct {
			v   *verifier.Verifier
			tok string
		}{
			"tampered claims":  {v, parts[0] + "." + tampered + "." + parts[2]},
			"another audience": {c.verifier(t, srv.Origin, "https://other.example.com", quick), tok},
			"another issuer":   {c.verifier(t, "https://other.example.com", srv.Origin, quick), tok},
			"expired": {c.verifier(t, srv.Origin, srv.Origin, quick, func(cfg *verifier.Config) {
				cfg.Now = func() time.Time { return time.Now().Add(16 * time.Minute) }
			}), tok},
			"alg none":                          {v, base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"`+first.KeyID+`"}`)) + "." + parts[1] + "."},
			"HS256 keyed with the public key":   {v, hs256(pub)},
			"HS256 keyed with the JWK's x text": {v, hs256([]byte(x))},
		}
		for name, tc := range cases {
			if _, err := tc.v.Verify(t.Context(), tc.tok); !errors.Is(err, verifier.ErrInvalidToken) {
				t.Errorf("%s: %v, want ErrInvalidToken", name, err)
			}
		}
	})

	t.Run("introspection", func(t *testing.T) {
		now := time.Now()
		clock := func() time.Time { return now }
		in, err := verifier.NewIntrospector(verifier.IntrospectConfig{BaseURL: srv.Origin + "/api/auth", Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		other := c.signUp(t, "introspected@example.com")
		req := func() *http.Request {
			r, _ := http.NewRequest("GET", "http://service.example/orders", nil)
			r.Header.Set("Authorization", "Bearer "+other)
			return r
		}
		s, err := in.Session(t.Context(), req())
		if err != nil || s.User.Email != "introspected@example.com" {
			t.Fatalf("introspection: %+v, %v", s, err)
		}
		if a := c.call(t, "POST", "/sign-out", "Bearer "+other, "{}"); a.status != 200 {
			t.Fatalf("sign-out: %d %s", a.status, a.body)
		}
		if _, err := in.Session(t.Context(), req()); err != nil {
			t.Errorf("within the cache's TTL the answer is reused: %v", err)
		}
		now = now.Add(6 * time.Second)
		if _, err := in.Session(t.Context(), req()); !errors.Is(err, verifier.ErrNoSession) {
			t.Errorf("after sign-out and the TTL: %v, want ErrNoSession", err)
		}
	})

	t.Run("rotation", func(t *testing.T) {
		// The key expires 2 s after it was made; poll until authd signs with
		// the next one (a deadline, not a timing assertion).
		deadline := time.Now().Add(30 * time.Second)
		var next string
		for time.Now().Before(deadline) {
			next = c.token(t, bearer)
			if h, _ := v.Verify(t.Context(), next); h != nil && h.KeyID != first.KeyID {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		got, err := v.Verify(t.Context(), next)
		if err != nil || got.KeyID == first.KeyID {
			t.Fatalf("after rotation: %+v, %v; want a token of a new key", got, err)
		}
		if _, err := v.Verify(t.Context(), tok); err != nil {
			t.Errorf("a token of the rotated-out key within the grace period: %v", err)
		}
	})
}
