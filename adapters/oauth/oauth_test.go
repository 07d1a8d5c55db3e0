package oauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/adapters/oauth"
	"github.com/authd/authd/adapters/oauth/oauthtest"
	"github.com/authd/authd/core/social"
)

// fakeGitHub serves GitHub's /user and /user/emails for one token.
func fakeGitHub(t *testing.T, user, emails string) string {
	t.Helper()
	mux := http.NewServeMux()
	auth := func(h func(w http.ResponseWriter)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer gho_token" || r.Header.Get("User-Agent") == "" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			h(w)
		}
	}
	mux.HandleFunc("GET /api/v3/user", auth(func(w http.ResponseWriter) { w.Write([]byte(user)) }))
	mux.HandleFunc("GET /api/v3/user/emails", auth(func(w http.ResponseWriter) { w.Write([]byte(emails)) }))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestGitHubProfileTakesThePrimaryVerifiedEmail(t *testing.T) {
	base := fakeGitHub(t, `{"id":583231,"login":"octocat","name":null,"email":null,"avatar_url":"https://avatars.test/u/583231"}`,
		`[{"email":"old@example.com","primary":false,"verified":true},{"email":"octo@example.com","primary":true,"verified":true}]`)
	p, err := oauth.NewBuiltin(oauth.BuiltinConfig{Name: "github", ClientID: "c", ClientSecret: "s", BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	prof, err := p.UserInfo(context.Background(), social.Tokens{AccessToken: "gho_token"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if prof.ID != "583231" || prof.Email != "octo@example.com" || !prof.EmailVerified || prof.Name != "octocat" ||
		prof.Image == nil || *prof.Image != "https://avatars.test/u/583231" {
		t.Fatalf("profile %+v", prof)
	}
	if _, err := p.UserInfo(context.Background(), social.Tokens{AccessToken: "wrong"}, ""); err == nil {
		t.Fatal("a refused token gave a profile")
	}
	u, _ := p.AuthorizationURL(context.Background(), social.AuthorizationRequest{State: "s", RedirectURI: "http://app/cb", CodeVerifier: "v"})
	if !strings.HasPrefix(u, base+"/login/oauth/authorize?") || !strings.Contains(u, "scope=read%3Auser+user%3Aemail") {
		t.Fatalf("authorization URL %s", u)
	}
}

func TestGitHubProfileEmailUnverifiedWhenNotListed(t *testing.T) {
	base := fakeGitHub(t, `{"id":1,"login":"l","name":"N","email":"public@example.com"}`,
		`[{"email":"other@example.com","primary":true,"verified":true}]`)
	p, _ := oauth.NewBuiltin(oauth.BuiltinConfig{Name: "github", ClientID: "c", ClientSecret: "s", BaseURL: base})
	prof, err := p.UserInfo(context.Background(), social.Tokens{AccessToken: "gho_token"}, "")
	if err != nil || prof.Email != "public@example.com" || prof.EmailVerified || prof.Name != "N" {
		t.Fatalf("profile %+v %v", prof, err)
	}
}

func TestGoogleIDTokenChecks(t *testing.T) {
	idp := oauthtest.Start("google-client", "s")
	defer idp.Close()
	p, err := oauth.NewBuiltin(oauth.BuiltinConfig{Name: "google", ClientID: "google-client", ClientSecret: "s", BaseURL: idp.URL})
	if err != nil {
		t.Fatal(err)
	}
	u := oauthtest.User{Sub: "g-1", Email: "g@example.com", EmailVerified: true, Name: "G"}
	now := time.Now()
	ctx := context.Background()
	good := idp.IDToken(u, "google-client", "n-1", now, time.Hour, false)
	prof, err := p.VerifyIDToken(ctx, good, "n-1")
	if err != nil || prof.ID != "g-1" || prof.Email != "g@example.com" || !prof.EmailVerified {
		t.Fatalf("valid token: %+v %v", prof, err)
	}
	if _, err := p.VerifyIDToken(ctx, good, ""); err != nil {
		t.Fatalf("valid token, no nonce expected: %v", err)
	}
	expiredClaims := idp.Claims(u, "google-client", "", now.Add(-2*time.Hour), time.Hour, false)
	cases := map[string]struct{ token, nonce string }{
		"wrong audience": {idp.IDToken(u, "someone-else", "", now, time.Hour, false), ""},
		"expired":        {idp.SignClaims(expiredClaims), ""},
		"bad signature":  {oauthtest.ForeignSign(idp.Claims(u, "google-client", "", now, time.Hour, false)), ""},
		"wrong nonce":    {good, "n-2"},
		"too old":        {idp.IDToken(u, "google-client", "", now.Add(-3*time.Hour), 4*time.Hour, false), ""},
		"not a JWT":      {"abc.def", ""},
	}
	for name, c := range cases {
		if _, err := p.VerifyIDToken(ctx, c.token, c.nonce); !errors.Is(err, social.ErrInvalidToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestProvidersWithoutIDTokens(t *testing.T) {
	for _, name := range []string{"github", "discord", "gitlab"} {
		p, _ := oauth.NewBuiltin(oauth.BuiltinConfig{Name: name, ClientID: "c", ClientSecret: "s"})
		if _, err := p.VerifyIDToken(context.Background(), "x.y.z", ""); !errors.Is(err, social.ErrIDTokenNotSupported) {
			t.Errorf("%s: %v", name, err)
		}
	}
	g := oauth.NewGeneric(oauth.GenericConfig{ID: "plain", ClientID: "c", ClientSecret: "s", AuthorizationURL: "http://127.0.0.1:1/a", TokenURL: "http://127.0.0.1:1/t"})
	if _, err := g.VerifyIDToken(context.Background(), "x.y.z", ""); !errors.Is(err, social.ErrIDTokenNotSupported) {
		t.Errorf("plain OAuth2: %v", err)
	}
}

// A provider that hangs or floods costs a bounded wait and bounded memory.
func TestProviderCallsAreBounded(t *testing.T) {
	idp := oauthtest.Start("c", "s")
	defer idp.Close()
	g := oauth.NewGeneric(oauth.GenericConfig{ID: "x", ClientID: "c", ClientSecret: "s", DiscoveryURL: idp.DiscoveryURL(),
		PKCE: true, Timeout: 200 * time.Millisecond})
	if _, err := g.Describe(context.Background()); err != nil {
		t.Fatal(err)
	}
	idp.Set(oauthtest.Behaviour{Delay: time.Minute})
	start := time.Now()
	if _, err := g.ExchangeCode(context.Background(), "code", "v", "http://app/cb"); err == nil {
		t.Fatal("a hung token endpoint gave tokens")
	}
	if time.Since(start) > 30*time.Second {
		t.Fatal("the token request outlived its timeout by far")
	}
	idp.Set(oauthtest.Behaviour{})

	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"sub":"x","pad":"`))
		w.Write([]byte(strings.Repeat("a", 2<<20)))
		w.Write([]byte(`"}`))
	}))
	defer big.Close()
	plain := oauth.NewGeneric(oauth.GenericConfig{ID: "p", ClientID: "c", ClientSecret: "s", AuthorizationURL: big.URL,
		TokenURL: big.URL, UserInfoURL: big.URL})
	if _, err := plain.UserInfo(context.Background(), social.Tokens{AccessToken: "a"}, ""); err == nil {
		t.Fatal("a 2 MiB profile was read")
	}
}

func TestCipherRoundTripAndKeySeparation(t *testing.T) {
	c, _ := oauth.NewCipher("s3cret-s3cret-s3cret-s3cret-s3cret")
	sealed, err := c.SealToken("tok")
	if err != nil || sealed == "tok" {
		t.Fatal(sealed, err)
	}
	if got, err := c.OpenToken(sealed); err != nil || got != "tok" {
		t.Fatal(got, err)
	}
	if _, err := c.OpenLinkSession(sealed); err == nil {
		t.Fatal("a token sealed for storage opened as a link session")
	}
	other, _ := oauth.NewCipher("another-secret-another-secret-xx")
	if _, err := other.OpenToken(sealed); err == nil {
		t.Fatal("opened under another secret")
	}
}

// unsignedJWT is a token whose payload is claims; built-in providers read
// the id_token of a token answer without checking it (TLS vouches for it).
func unsignedJWT(t *testing.T, claims map[string]any) string {
	t.Helper()
	raw, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString(raw) + ".sig"
}

func TestMicrosoftProfile(t *testing.T) {
	p, _ := oauth.NewBuiltin(oauth.BuiltinConfig{Name: "microsoft", ClientID: "c", ClientSecret: "s", TenantID: "t-1"})
	ctx := context.Background()
	prof, err := p.UserInfo(ctx, social.Tokens{IDToken: unsignedJWT(t, map[string]any{"oid": "oid-1", "sub": "pairwise",
		"email": "m@example.com", "name": "M", "verified_primary_email": []any{"m@example.com"}})}, "")
	if err != nil || prof.ID != "oid-1" || prof.Email != "m@example.com" || !prof.EmailVerified || prof.Name != "M" {
		t.Fatalf("profile %+v %v", prof, err)
	}
	prof, _ = p.UserInfo(ctx, social.Tokens{IDToken: unsignedJWT(t, map[string]any{"oid": "oid-1", "email": "m@example.com",
		"email_verified": "false", "verified_primary_email": []any{"m@example.com"}})}, "")
	if prof.EmailVerified {
		t.Fatal("email_verified=false was overridden by the verified list")
	}
	if _, err := p.UserInfo(ctx, social.Tokens{IDToken: unsignedJWT(t, map[string]any{"sub": "s", "email": "m@example.com"})}, ""); err == nil {
		t.Fatal("a token without oid gave a profile")
	}
	u, _ := p.AuthorizationURL(ctx, social.AuthorizationRequest{State: "s", RedirectURI: "http://app/cb", CodeVerifier: "v"})
	if !strings.HasPrefix(u, "https://login.microsoftonline.com/t-1/oauth2/v2.0/authorize?") ||
		!strings.Contains(u, "scope=openid+profile+email+User.Read+offline_access") {
		t.Fatalf("authorization URL %s", u)
	}
}

func TestAppleProfileAndClientSecret(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	var form url.Values
	apple := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		form = r.PostForm
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"a","token_type":"Bearer"}`))
	}))
	defer apple.Close()
	p, err := oauth.NewBuiltin(oauth.BuiltinConfig{Name: "apple", ClientID: "com.example.app", BaseURL: apple.URL,
		TeamID: "TEAM123", KeyID: "KEY456", PrivateKey: strings.ReplaceAll(pemKey, "\n", `\n`)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.ExchangeCode(ctx, "code", "verifier", "http://app/cb"); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSigned(form.Get("client_secret"), []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("client_secret %q: %v", form.Get("client_secret"), err)
	}
	payload, err := jws.Verify(&key.PublicKey)
	if err != nil || jws.Signatures[0].Header.KeyID != "KEY456" {
		t.Fatalf("client secret signature: %v", err)
	}
	var c map[string]any
	json.Unmarshal(payload, &c)
	if c["iss"] != "TEAM123" || c["sub"] != "com.example.app" || c["aud"] != apple.URL {
		t.Fatalf("client secret claims %v", c)
	}

	prof, err := p.UserInfo(ctx, social.Tokens{IDToken: unsignedJWT(t, map[string]any{"sub": "001.apple", "email": "a@privaterelay.example",
		"email_verified": "true"}), User: `{"name":{"firstName":"Ada","lastName":"Lovelace"}}`}, "")
	if err != nil || prof.ID != "001.apple" || !prof.EmailVerified || prof.Name != "Ada Lovelace" {
		t.Fatalf("profile %+v %v", prof, err)
	}
	u, _ := p.AuthorizationURL(ctx, social.AuthorizationRequest{State: "s", RedirectURI: "http://app/cb", CodeVerifier: "v"})
	if !strings.Contains(u, "response_type=code+id_token") || !strings.Contains(u, "response_mode=form_post") {
		t.Fatalf("authorization URL %s", u)
	}
}

// Entra ID tokens name their tenant: the issuer must be that tenant's, and
// a configured tenant admits its own tokens only.
func TestMicrosoftIDTokenTenantRule(t *testing.T) {
	idp := oauthtest.Start("ms-client", "s")
	defer idp.Close()
	ctx := context.Background()
	u := oauthtest.User{Sub: "s-1", Email: "m@example.com", EmailVerified: true, Name: "M"}
	token := func(tid, iss string) string {
		c := idp.Claims(u, "ms-client", "", time.Now(), time.Hour, false)
		c["tid"], c["iss"], c["oid"] = tid, iss, "oid-1"
		return idp.SignClaims(c)
	}
	single, _ := oauth.NewBuiltin(oauth.BuiltinConfig{Name: "microsoft", ClientID: "ms-client", ClientSecret: "s",
		BaseURL: idp.URL, TenantID: "t-1"})
	if prof, err := single.VerifyIDToken(ctx, token("t-1", idp.URL+"/t-1/v2.0"), ""); err != nil || prof.ID != "oid-1" {
		t.Fatalf("own tenant: %+v %v", prof, err)
	}
	for name, tok := range map[string]string{
		"another tenant":           token("t-2", idp.URL+"/t-2/v2.0"),
		"issuer of another tenant": token("t-1", idp.URL+"/t-2/v2.0"),
	} {
		if _, err := single.VerifyIDToken(ctx, tok, ""); !errors.Is(err, social.ErrInvalidToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
	common, _ := oauth.NewBuiltin(oauth.BuiltinConfig{Name: "microsoft", ClientID: "ms-client", ClientSecret: "s", BaseURL: idp.URL})
	if _, err := common.VerifyIDToken(ctx, token("t-2", idp.URL+"/t-2/v2.0"), ""); err != nil {
		t.Fatalf("common admits any tenant's own token: %v", err)
	}
	if _, err := common.VerifyIDToken(ctx, token("t-2", idp.URL+"/t-3/v2.0"), ""); !errors.Is(err, social.ErrInvalidToken) {
		t.Fatalf("common admitted a token whose issuer is not its tenant's: %v", err)
	}
}
