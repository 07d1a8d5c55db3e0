package battery

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/adapters/verifier"
	"github.com/authd/authd/cmd/authd/authdtest"
)

// authz sends one request with an Authorization header and no cookies.
func authz(t *testing.T, a *authd, method, path, header string) *reply {
	t.Helper()
	req, err := http.NewRequest(method, a.Origin+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if header != "" {
		req.Header.Set("Authorization", header)
	}
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &reply{Status: res.StatusCode, Header: res.Header, Body: b}
}

func tokensEnv(pg *pgCluster, name, addr string) env {
	return authdEnv(pg, name, addr).with("AUTH_JWT_ENABLED", "true", "AUTH_BEARER_ENABLED", "true")
}

// TestBearerAbuse is battery 47: malformed, oversized and replayed bearer
// credentials never authenticate and never cause a 5xx; a bearer token dies
// with its session, and a JWT is never a bearer credential.
func TestBearerAbuse(t *testing.T) {
	pg := sharedCluster(t)
	name := pg.migratedDB(t)
	a := startAuthd(t, tokensEnv(pg, name, authdtest.FreeAddr(t)))
	c := newClient(a)
	r := c.mustSignUp(t, "bearer-abuse@example.com", "correct horse battery")
	signed := r.Header.Get("set-auth-token")
	raw := bodyToken(t, r)
	if signed == "" {
		t.Fatal("no set-auth-token on sign-up")
	}
	tok := authz(t, a, "GET", "/api/auth/token", "Bearer "+signed)
	var jwt struct{ Token string }
	if tok.Status != 200 || json.Unmarshal(tok.Body, &jwt) != nil {
		t.Fatalf("/token: %s", tok)
	}

	for name, h := range map[string]string{
		"a JWT":                  "Bearer " + jwt.Token,
		"a 6 KiB token":          "Bearer " + strings.Repeat("A", 6<<10),
		"6 KiB of dots":          "Bearer " + strings.Repeat(".", 6<<10),
		"a bad percent escape":   "Bearer " + raw + "%zz.%E0%A4%A",
		"a tab inside":           "Bearer " + raw + "\t." + strings.Repeat("=", 44),
		"non-ASCII signature":    "Bearer " + raw + ".é" + strings.Repeat("A", 42) + "=",
		"no space after Bearer":  "Bearer" + signed,
		"the signature only":     "Bearer ." + strings.SplitN(signed, ".", 2)[1],
		"someone else's format":  "Bearer " + raw + "." + raw,
		"scheme only":            "Bearer",
		"many spaces":            "Bearer " + strings.Repeat(" ", 4<<10),
		"a Basic credential":     "Basic " + signed,
		"the token twice":        "Bearer " + signed + " " + signed,
		"a percent-encoded null": "Bearer %00." + strings.SplitN(signed, ".", 2)[1],
	} {
		for _, path := range []string{"/api/auth/get-session", "/api/auth/token", "/api/auth/list-sessions"} {
			got := authz(t, a, "GET", path, h)
			switch {
			case got.Status >= 500:
				t.Errorf("%s on %s: %s", name, path, got)
			case got.Status == 200 && path != "/api/auth/get-session":
				t.Errorf("%s authenticated %s: %s", name, path, got)
			case path == "/api/auth/get-session" && got.Status == 200 && string(got.Body) != "null":
				t.Errorf("%s gave a session: %s", name, got)
			}
		}
	}
	// A header beyond the server's limit is refused before any route.
	if status := oversizedRequest(t, a, "GET /api/auth/get-session HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+strings.Repeat("A", 64<<10)+"\r\n\r\n"); status != 431 {
		t.Errorf("a 64 KiB Authorization header: %d, want 431", status)
	}

	// Replay after sign-out: the same bearer (signed or raw) is dead.
	for _, b := range []string{signed, raw} {
		if got := authz(t, a, "GET", "/api/auth/get-session", "Bearer "+b); string(got.Body) == "null" {
			t.Fatalf("bearer %q not accepted before sign-out: %s", b[:8], got)
		}
	}
	if got := authz(t, a, "POST", "/api/auth/sign-out", "Bearer "+signed); got.Status != 200 {
		t.Fatalf("bearer sign-out: %s", got)
	}
	for _, b := range []string{signed, raw} {
		if got := authz(t, a, "GET", "/api/auth/get-session", "Bearer "+b); got.Status != 200 || string(got.Body) != "null" {
			t.Errorf("bearer replayed after sign-out: %s", got)
		}
		if got := authz(t, a, "GET", "/api/auth/token", "Bearer "+b); got.Status != 401 {
			t.Errorf("/token with a bearer replayed after sign-out: %s", got)
		}
	}
}

// TestSigningKeyMaterial is battery 48: the private key never leaves the
// server (not in /jwks, encrypted at rest), and a key stored under another
// APP_SECRET makes /token fail with a plain 500, without a new key and
// without key material in the answer or the log.
func TestSigningKeyMaterial(t *testing.T) {
	pg := sharedCluster(t)
	name := pg.migratedDB(t)
	a := startAuthd(t, tokensEnv(pg, name, authdtest.FreeAddr(t)))
	c := newClient(a)
	signed := c.mustSignUp(t, "key-material@example.com", "correct horse battery").Header.Get("set-auth-token")
	if got := authz(t, a, "GET", "/api/auth/token", "Bearer "+signed); got.Status != 200 {
		t.Fatalf("/token: %s", got)
	}
	jwks := authz(t, a, "GET", "/api/auth/jwks", "")
	if jwks.Status != 200 || strings.Contains(string(jwks.Body), `"d"`) {
		t.Errorf("/jwks: %s", jwks)
	}
	db := pg.open(t, name)
	var private string
	if err := db.NewRaw("SELECT private_key FROM jwks").Scan(t.Context(), &private); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(private, `"d"`) || strings.Contains(private, "Ed25519") {
		t.Errorf("private_key is stored in the clear: %.60s…", private)
	}

	// The same database under another secret: the key cannot be opened.
	b := startAuthd(t, tokensEnv(pg, name, authdtest.FreeAddr(t)).with("APP_SECRET", strings.Repeat("z", 40)))
	other := newClient(b).mustSignUp(t, "other-secret@example.com", "correct horse battery").Header.Get("set-auth-token")
	got := authz(t, b, "GET", "/api/auth/token", "Bearer "+other)
	if got.Status != 500 || strings.Contains(string(got.Body), private[1:20]) {
		t.Errorf("/token with an undecryptable key: %s, want a plain 500", got)
	}
	var rows int
	if err := db.NewRaw("SELECT count(*) FROM jwks").Scan(t.Context(), &rows); err != nil || rows != 1 {
		t.Errorf("%d keys after the failure (%v), want still 1", rows, err)
	}
	if strings.Contains(b.stderr.String(), private[1:20]) {
		t.Error("the log holds key material")
	}
}

// TestFirstKeyAcrossInstances is battery 50: two instances on one empty
// jwks table answer 32 simultaneous /token requests with one key between
// them, so every token verifies against either instance's /jwks at once.
func TestFirstKeyAcrossInstances(t *testing.T) {
	pg := sharedCluster(t)
	name := pg.migratedDB(t)
	const iss, aud = "https://id.example.com", "https://api.example.com"
	a := startAuthd(t, tokensEnv(pg, name, authdtest.FreeAddr(t)).with("AUTH_JWT_ISSUER", iss, "AUTH_JWT_AUDIENCE", aud))
	b := startAuthd(t, tokensEnv(pg, name, authdtest.FreeAddr(t)).with("AUTH_JWT_ISSUER", iss, "AUTH_JWT_AUDIENCE", aud))
	bearer := newClient(a).mustSignUp(t, "first-key@example.com", "correct horse battery").Header.Get("set-auth-token")
	servers := []*authd{a, b}
	jwts := together(32, func(i int) string {
		r := authz(t, servers[i%2], "GET", "/api/auth/token", "Bearer "+bearer)
		var v struct{ Token string }
		if r.Status != 200 || json.Unmarshal(r.Body, &v) != nil {
			t.Errorf("/token on instance %d: %s", i%2, r)
		}
		return v.Token
	})
	var rows int
	if err := pg.open(t, name).NewRaw("SELECT count(*) FROM jwks").Scan(t.Context(), &rows); err != nil || rows != 1 {
		t.Fatalf("%d keys (%v), want 1", rows, err)
	}
	for _, s := range servers {
		v, err := verifier.New(verifier.Config{JWKSURL: s.Origin + "/api/auth/jwks", Issuer: iss, Audience: []string{aud}})
		if err != nil {
			t.Fatal(err)
		}
		for i, jwt := range jwts {
			if _, err := v.Verify(t.Context(), jwt); err != nil {
				t.Errorf("token %d against %s's /jwks: %v", i, s.Origin, err)
			}
		}
	}
}
