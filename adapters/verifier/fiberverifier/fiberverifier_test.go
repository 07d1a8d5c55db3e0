package fiberverifier_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/verifier"
	"github.com/authd/authd/adapters/verifier/fiberverifier"
)

func TestFiberMiddleware(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{"alg": "EdDSA", "crv": "Ed25519",
			"kty": "OKP", "kid": "k1", "x": base64.RawURLEncoding.EncodeToString(pub)}}})
	}))
	defer jwks.Close()
	v, err := verifier.New(verifier.Config{JWKSURL: jwks.URL, Issuer: "iss", Audience: []string{"aud"}})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: priv, KeyID: "k1"}}, nil)
	now := time.Now().Unix()
	payload, _ := json.Marshal(map[string]any{"sub": "u1", "id": "u1", "email": "ada@example.com", "iss": "iss",
		"aud": "aud", "iat": now, "exp": now + 900})
	jws, _ := s.Sign(payload)
	tok, _ := jws.CompactSerialize()

	app := fiber.New()
	app.Use(fiberverifier.New(v))
	app.Get("/me", func(c *fiber.Ctx) error {
		cl, ok := fiberverifier.Claims(c)
		fromCtx, ok2 := verifier.ClaimsFrom(c.UserContext())
		if !ok || !ok2 || cl != fromCtx {
			return c.SendStatus(500)
		}
		return c.SendString(cl.User.Email)
	})
	for _, tc := range []struct {
		authz, body string
		code        int
	}{{"Bearer " + tok, "ada@example.com", 200}, {"", "", 401}, {"Bearer " + tok + "x", "", 401}} {
		req := httptest.NewRequest(http.MethodGet, "/me", nil)
		if tc.authz != "" {
			req.Header.Set("Authorization", tc.authz)
		}
		res, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != tc.code || (tc.body != "" && string(body) != tc.body) {
			t.Errorf("%.20q: %d %s", tc.authz, res.StatusCode, body)
		}
		if tc.code == 401 && res.Header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
	}
}
