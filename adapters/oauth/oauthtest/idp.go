// Package oauthtest is a loopback OpenID Connect provider for tests: the
// end-to-end suite points authd and the real better-auth at the same one.
// It checks what a strict provider checks (client_secret_post credentials,
// the redirect_uri of the authorization, PKCE S256, single-use codes) and
// can misbehave on demand (slow, garbage, errors) for the fault battery.
package oauthtest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// User is an account at the provider.
type User struct {
	Sub           string
	Email         string
	EmailVerified bool
	Name          string
	Picture       string
}

// Behaviour switches; the zero value is a well-behaved provider.
type Behaviour struct {
	// Delay holds every answer this long (a slow or hung provider).
	Delay time.Duration
	// Garbage answers the token, user-info and discovery endpoints with a
	// body that is not JSON.
	Garbage bool
	// TokenStatus, when set, is the status of every token answer.
	TokenStatus int
	// NoIss leaves iss off the authorization response.
	NoIss bool
	// ExpiresIn is the access token lifetime sent (0: 3600 s; negative: omitted).
	ExpiresIn time.Duration
	// IDTokenLifetime is the id_token's exp - iat (0: 1 h).
	IDTokenLifetime time.Duration
	// NoIDTokenEmail leaves email out of the id_token, so that clients
	// must ask the user-info endpoint.
	NoIDTokenEmail bool
	// ConsentPage shows a page with an "Allow" link (id "allow") instead
	// of consenting at once, for tests that drive a real browser.
	ConsentPage bool
}

// IdP is a running provider. Its issuer is URL.
type IdP struct {
	URL                    string
	ClientID, ClientSecret string

	srv *httptest.Server
	key *rsa.PrivateKey
	kid string

	mu          sync.Mutex
	b           Behaviour
	users       map[string]User // by email
	def         string          // email of the user chosen without login_hint
	codes       map[string]grant
	access      map[string]grant
	refresh     map[string]grant
	tokenLog    []url.Values
	discoveries int
}

type grant struct {
	user                                 User
	redirectURI, challenge, nonce, scope string
	idToken                              bool // asked for by scope openid or response_type id_token
}

// Start serves a provider on a loopback port until Close.
func Start(clientID, clientSecret string) *IdP {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	p := &IdP{ClientID: clientID, ClientSecret: clientSecret, key: key, kid: randHex(8),
		users: map[string]User{}, codes: map[string]grant{}, access: map[string]grant{}, refresh: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /oauth2/v3/certs", p.jwks)              // where Google serves its keys
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", p.jwks) // Microsoft's
	mux.HandleFunc("GET /auth/keys", p.jwks)                    // Apple's
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /userinfo", p.userinfo)
	mux.HandleFunc("GET /test/id-token", p.mintIDToken)
	// The built-in providers' paths under a base URL, so that one fake
	// stands in for GitHub, Google, GitLab, Discord and Apple.
	mux.HandleFunc("GET /login/oauth/authorize", p.authorize)
	mux.HandleFunc("POST /login/oauth/access_token", p.token)
	mux.HandleFunc("GET /api/v3/user", p.githubUser)
	mux.HandleFunc("GET /api/v3/user/emails", p.githubEmails)
	mux.HandleFunc("GET /o/oauth2/v2/auth", p.authorize)
	mux.HandleFunc("GET /oauth/authorize", p.authorize)
	mux.HandleFunc("POST /oauth/token", p.token)
	mux.HandleFunc("GET /api/v4/user", p.gitlabUser)
	mux.HandleFunc("GET /api/oauth2/authorize", p.authorize)
	mux.HandleFunc("POST /api/oauth2/token", p.token)
	mux.HandleFunc("GET /api/users/@me", p.discordUser)
	mux.HandleFunc("GET /auth/authorize", p.authorize)
	mux.HandleFunc("POST /auth/token", p.token)
	p.srv = httptest.NewServer(p.slow(mux))
	p.URL = p.srv.URL
	return p
}

func (p *IdP) Close() { p.srv.Close() }

// DiscoveryURL is the OIDC discovery document's address.
func (p *IdP) DiscoveryURL() string { return p.URL + "/.well-known/openid-configuration" }

// AddUser registers u; the first one added is the default user.
func (p *IdP) AddUser(u User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.users[strings.ToLower(u.Email)] = u
	if p.def == "" {
		p.def = strings.ToLower(u.Email)
	}
}

// Set replaces the behaviour switches.
func (p *IdP) Set(b Behaviour) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.b = b
}

// Behaviour returns the behaviour switches in force.
func (p *IdP) Behaviour() Behaviour {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.b
}

// TokenRequests returns the forms posted to the token endpoint so far.
func (p *IdP) TokenRequests() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]url.Values(nil), p.tokenLog...)
}

func (p *IdP) slow(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d := p.Behaviour().Delay; d > 0 {
			// Reading the body first lets the server notice a client that
			// gave up (it watches the connection only once the body is
			// consumed), so that Close does not wait out the delay.
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (p *IdP) garbage(w http.ResponseWriter) bool {
	if !p.Behaviour().Garbage {
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte("<html>not json"))
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// DiscoveryRequests counts the requests for the discovery document.
func (p *IdP) DiscoveryRequests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.discoveries
}

func (p *IdP) discovery(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	p.discoveries++
	p.mu.Unlock()
	if p.garbage(w) {
		return
	}
	writeJSON(w, 200, map[string]any{
		"issuer":                                         p.URL,
		"authorization_endpoint":                         p.URL + "/authorize",
		"token_endpoint":                                 p.URL + "/token",
		"userinfo_endpoint":                              p.URL + "/userinfo",
		"jwks_uri":                                       p.URL + "/jwks",
		"response_types_supported":                       []string{"code"},
		"subject_types_supported":                        []string{"public"},
		"id_token_signing_alg_values_supported":          []string{"RS256"},
		"code_challenge_methods_supported":               []string{"S256"},
		"authorization_response_iss_parameter_supported": true,
	})
}

func (p *IdP) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 200, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: p.kid, Algorithm: "RS256", Use: "sig"}}})
}

// authorize consents at once for the user named by login_hint (else the
// default user; an unknown hint is a new account) and redirects back with a code; ?deny=1 (an extra
// parameter) refuses with access_denied.
func (p *IdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if q.Get("client_id") != p.ClientID || err != nil || redirect.Scheme != "http" ||
		q.Get("response_type") != "code" && q.Get("response_type") != "code id_token" {
		http.Error(w, "invalid_request", http.StatusBadRequest)
		return
	}
	if m := q.Get("code_challenge_method"); q.Get("code_challenge") != "" && m != "S256" {
		http.Error(w, "only S256", http.StatusBadRequest)
		return
	}
	if p.Behaviour().ConsentPage && q.Get("consent") != "1" {
		q.Set("consent", "1")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Fake IdP</title><p>Sign in to the app as %s?</p><a id="allow" href="/authorize?%s">Allow</a>`,
			html.EscapeString(q.Get("login_hint")), html.EscapeString(q.Encode()))
		return
	}
	back := redirect.Query()
	back.Set("state", q.Get("state"))
	if !p.Behaviour().NoIss {
		back.Set("iss", p.URL)
	}
	p.mu.Lock()
	email := strings.ToLower(q.Get("login_hint"))
	if email == "" {
		email = p.def
	}
	u, ok := p.users[email]
	if !ok && email != "" {
		// Any login_hint is an account, so that a suite written in
		// another language needs no set-up call.
		u = AutoUser(email)
		p.users[email], ok = u, true
	}
	p.mu.Unlock()
	switch {
	case q.Get("deny") == "1":
		back.Set("error", "access_denied")
		back.Set("error_description", "The user said no")
	case !ok:
		back.Set("error", "login_required")
	default:
		code := randHex(16)
		p.mu.Lock()
		p.codes[code] = grant{user: u, redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"),
			nonce: q.Get("nonce"), scope: q.Get("scope"),
			idToken: strings.Contains(" "+q.Get("scope")+" ", " openid ") || q.Get("response_type") == "code id_token"}
		p.mu.Unlock()
		back.Set("code", code)
	}
	if q.Get("response_mode") == "form_post" {
		// Apple's way: the browser posts the answer to the redirect URI.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Fake IdP</title><form id="answer" method="post" action="%s">`,
			html.EscapeString(redirect.String()))
		for k := range back {
			fmt.Fprintf(w, `<input type="hidden" name="%s" value="%s">`, html.EscapeString(k), html.EscapeString(back.Get(k)))
		}
		fmt.Fprint(w, `</form><script>document.getElementById("answer").submit()</script>`)
		return
	}
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func tokenError(w http.ResponseWriter, code string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code})
}

func (p *IdP) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, "invalid_request")
		return
	}
	p.mu.Lock()
	p.tokenLog = append(p.tokenLog, r.PostForm)
	p.mu.Unlock()
	if p.garbage(w) {
		return
	}
	if s := p.Behaviour().TokenStatus; s != 0 {
		writeJSON(w, s, map[string]string{"error": "server_error"})
		return
	}
	// client_secret_post only: credentials in the body, none in a header.
	if r.Header.Get("Authorization") != "" || r.PostForm.Get("client_id") != p.ClientID ||
		r.PostForm.Get("client_secret") != p.ClientSecret {
		tokenError(w, "invalid_client")
		return
	}
	var g grant
	p.mu.Lock()
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		code := r.PostForm.Get("code")
		c, ok := p.codes[code]
		delete(p.codes, code) // single use, even when the rest is wrong
		p.mu.Unlock()
		if !ok || c.redirectURI != r.PostForm.Get("redirect_uri") {
			tokenError(w, "invalid_grant")
			return
		}
		if c.challenge != "" {
			sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
			if base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
				tokenError(w, "invalid_grant")
				return
			}
		}
		g = c
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		c, ok := p.refresh[rt]
		delete(p.refresh, rt)
		p.mu.Unlock()
		if !ok {
			tokenError(w, "invalid_grant")
			return
		}
		g = c
		g.nonce = ""
	default:
		p.mu.Unlock()
		tokenError(w, "unsupported_grant_type")
		return
	}
	p.issue(w, g)
}

func (p *IdP) issue(w http.ResponseWriter, g grant) {
	b := p.Behaviour()
	at, rt := "at-"+randHex(16), "rt-"+randHex(16)
	p.mu.Lock()
	p.access[at], p.refresh[rt] = g, g
	p.mu.Unlock()
	out := map[string]any{"access_token": at, "token_type": "Bearer", "refresh_token": rt, "scope": g.scope}
	switch {
	case b.ExpiresIn == 0:
		out["expires_in"] = 3600
	case b.ExpiresIn > 0:
		out["expires_in"] = int(b.ExpiresIn / time.Second)
	}
	if g.idToken {
		out["id_token"] = p.IDToken(g.user, p.ClientID, g.nonce, time.Now(), b.IDTokenLifetime, b.NoIDTokenEmail)
	}
	writeJSON(w, 200, out)
}

// IDToken signs an id_token for u with the provider's key.
func (p *IdP) IDToken(u User, audience, nonce string, iat time.Time, lifetime time.Duration, noEmail bool) string {
	return p.SignClaims(p.Claims(u, audience, nonce, iat, lifetime, noEmail))
}

// Claims are the id_token claims IDToken signs.
func (p *IdP) Claims(u User, audience, nonce string, iat time.Time, lifetime time.Duration, noEmail bool) map[string]any {
	if lifetime == 0 {
		lifetime = time.Hour
	}
	c := map[string]any{"iss": p.URL, "sub": u.Sub, "aud": audience, "iat": iat.Unix(), "exp": iat.Add(lifetime).Unix(),
		"name": u.Name}
	if !noEmail {
		c["email"], c["email_verified"] = u.Email, u.EmailVerified
	}
	if u.Picture != "" {
		c["picture"] = u.Picture
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	return c
}

// SignClaims signs any claims with the provider's key (RS256).
func (p *IdP) SignClaims(claims map[string]any) string {
	return sign(p.key, p.kid, claims)
}

func sign(key *rsa.PrivateKey, kid string, claims map[string]any) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		panic(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		panic(err)
	}
	s, _ := jws.CompactSerialize()
	return s
}

// ForeignSign signs claims with a key the provider does not publish (a
// forged token).
func ForeignSign(claims map[string]any) string {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return sign(key, randHex(8), claims)
}

// mintIDToken signs an id_token for the account of ?email= (made as
// login_hint makes one), for suites in other languages that test
// id_token sign-in: ?aud= (default the client id), ?nonce=, ?age= (seconds
// since it was issued), ?foreign=1 (signed with a key the provider does not
// publish).
func (p *IdP) mintIDToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	email := strings.ToLower(q.Get("email"))
	p.mu.Lock()
	u, ok := p.users[email]
	if !ok {
		u = AutoUser(email)
		p.users[email] = u
	}
	p.mu.Unlock()
	aud := q.Get("aud")
	if aud == "" {
		aud = p.ClientID
	}
	var age int
	fmt.Sscan(q.Get("age"), &age)
	claims := p.Claims(u, aud, q.Get("nonce"), time.Now().Add(-time.Duration(age)*time.Second), time.Hour, false)
	tok := p.SignClaims(claims)
	if q.Get("foreign") == "1" {
		tok = ForeignSign(claims)
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte(tok))
}

// AutoUser is the account an unknown address gets: its subject follows
// from the address, and addresses starting with "unverified" are not
// verified.
func AutoUser(email string) User {
	sum := sha256.Sum256([]byte(email))
	local, _, _ := strings.Cut(email, "@")
	return User{Sub: "sub-" + hex.EncodeToString(sum[:8]), Email: email,
		EmailVerified: !strings.HasPrefix(email, "unverified"), Name: "IdP " + local}
}

// bearer returns the user of the request's access token, or answers 401.
func (p *IdP) bearer(w http.ResponseWriter, r *http.Request) (User, bool) {
	at, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	g, known := p.access[at]
	p.mu.Unlock()
	if !ok || !known {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return User{}, false
	}
	return g.user, true
}

// NumericID is the number the GitHub and GitLab fakes give u.
func NumericID(u User) int64 {
	sum := sha256.Sum256([]byte(u.Sub))
	var n int64
	for _, b := range sum[:6] {
		n = n<<8 | int64(b)
	}
	return n
}

func (p *IdP) githubUser(w http.ResponseWriter, r *http.Request) {
	if u, ok := p.bearer(w, r); ok {
		local, _, _ := strings.Cut(u.Email, "@")
		writeJSON(w, 200, map[string]any{"id": NumericID(u), "login": local, "name": nil, "email": nil,
			"avatar_url": "https://avatars.example/" + local})
	}
}

func (p *IdP) githubEmails(w http.ResponseWriter, r *http.Request) {
	if u, ok := p.bearer(w, r); ok {
		writeJSON(w, 200, []map[string]any{{"email": "secondary@example.com", "primary": false, "verified": true},
			{"email": u.Email, "primary": true, "verified": u.EmailVerified}})
	}
}

func (p *IdP) gitlabUser(w http.ResponseWriter, r *http.Request) {
	if u, ok := p.bearer(w, r); ok {
		local, _, _ := strings.Cut(u.Email, "@")
		writeJSON(w, 200, map[string]any{"id": NumericID(u), "username": local, "name": u.Name, "email": u.Email,
			"state": "active", "locked": false, "email_verified": u.EmailVerified, "avatar_url": nil})
	}
}

func (p *IdP) discordUser(w http.ResponseWriter, r *http.Request) {
	if u, ok := p.bearer(w, r); ok {
		local, _, _ := strings.Cut(u.Email, "@")
		writeJSON(w, 200, map[string]any{"id": fmt.Sprint(NumericID(u) << 22), "username": local, "global_name": u.Name,
			"email": u.Email, "verified": u.EmailVerified, "avatar": nil, "discriminator": "0"})
	}
}

func (p *IdP) userinfo(w http.ResponseWriter, r *http.Request) {
	if p.garbage(w) {
		return
	}
	u, ok := p.bearer(w, r)
	if !ok {
		return
	}
	out := map[string]any{"sub": u.Sub, "id": u.Sub, "email": u.Email, "email_verified": u.EmailVerified, "name": u.Name}
	if u.Picture != "" {
		out["picture"] = u.Picture
	}
	writeJSON(w, 200, out)
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
