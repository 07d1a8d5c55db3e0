package verifier_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/adapters/verifier"
)

// A resource service that trusts authd's JWTs. In production JWKSURL is
// authd's <AUTH_BASE_URL>/auth/jwks and the client got its token from
// GET /api/auth/token (or the set-auth-jwt header of get-session); here a
// stand-in for authd serves one key and signs one token.
func Example_service() {
	authd, token := standInAuthd()
	defer authd.Close()

	v, err := verifier.New(verifier.Config{
		JWKSURL:  authd.URL + "/api/auth/jwks",
		Issuer:   authd.URL, // AUTH_JWT_ISSUER; authd's default is its origin
		Audience: []string{authd.URL},
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /orders", v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verifier.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "orders of %s (%s)", c.User.Email, c.Subject)
	})))
	service := httptest.NewServer(mux)
	defer service.Close()

	tampered := []byte(token)
	tampered[len(tampered)-10] ^= 'A' ^ 'B' // one character of the signature altered
	for _, authz := range []string{"Bearer " + token, "Bearer " + string(tampered), ""} {
		req, _ := http.NewRequest(http.MethodGet, service.URL+"/orders", nil)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(res.StatusCode, string(body))
	}
	// Output:
	// 200 orders of ada@example.com (user-1)
	// 401 {"code":"UNAUTHORIZED","message":"Unauthorized"}
	// 401 {"code":"UNAUTHORIZED","message":"Unauthorized"}
}

// standInAuthd serves a JWKS like authd's and returns a token like its /token.
func standInAuthd() (*httptest.Server, string) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{"alg": "EdDSA", "crv": "Ed25519",
			"x": base64.RawURLEncoding.EncodeToString(pub), "kty": "OKP", "kid": "key-1"}}})
	}))
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: priv, KeyID: "key-1"}}, nil)
	now := time.Now().Unix()
	payload, _ := json.Marshal(map[string]any{"iat": now, "id": "user-1", "name": "Ada", "email": "ada@example.com",
		"emailVerified": true, "image": nil, "createdAt": "2026-01-02T03:04:05.678Z", "updatedAt": "2026-01-02T03:04:05.678Z",
		"sub": "user-1", "exp": now + 900, "iss": srv.URL, "aud": srv.URL})
	jws, _ := signer.Sign(payload)
	token, _ := jws.CompactSerialize()
	return srv, token
}
