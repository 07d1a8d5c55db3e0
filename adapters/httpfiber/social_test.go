package httpfiber

import (
	"net/url"
	"strings"
	"testing"

	"github.com/authd/authd/adapters/httpfiber/social"
	"github.com/authd/authd/adapters/oauth"
	"github.com/authd/authd/adapters/oauth/oauthtest"
	"github.com/authd/authd/core"
	socialcore "github.com/authd/authd/core/social"
)

// newSocialHarness serves the social routes with provider "fake" at a
// loopback provider.
func newSocialHarness(t *testing.T) (*harness, *oauthtest.IdP) {
	idp := oauthtest.Start("client-1", "secret-1")
	t.Cleanup(idp.Close)
	h := newHarness(t, harnessConfig{features: func(h *harness, auth *core.Auth) []Feature {
		cipher, err := oauth.NewCipher(testSecret)
		if err != nil {
			t.Fatal(err)
		}
		svc := socialcore.New(socialcore.Deps{Auth: auth, Users: h.store.Users(), Sessions: h.store.Sessions(),
			Accounts: h.store.Accounts(), Verifications: h.store.Verifications(), Tx: h.store.Tx(), Clock: h.clock,
			Cipher: cipher}, socialcore.Config{BaseURL: testBaseURL, Linking: socialcore.Linking{Enabled: true}},
			map[string]socialcore.Provider{"fake": oauth.NewGeneric(oauth.GenericConfig{ID: "fake", ClientID: "client-1",
				ClientSecret: "secret-1", DiscoveryURL: idp.DiscoveryURL(), PKCE: true})})
		return []Feature{social.Routes(svc)}
	}})
	return h, idp
}

func TestSocialSignIn_AnswersURLAndStateCookie(t *testing.T) {
	h, idp := newSocialHarness(t)
	r := h.post("/sign-in/social", `{"provider":"fake","callbackURL":"/dash"}`, "Content-Type", "application/json")
	wantStatus(t, r, 200)
	m := r.json(t)
	u, _ := m["url"].(string)
	if m["redirect"] != true || !strings.HasPrefix(u, idp.URL+"/authorize?") || r.header.Get("Location") != u {
		t.Fatalf("answer %v, Location %q", m, r.header.Get("Location"))
	}
	parsed, _ := url.Parse(u)
	state := parsed.Query().Get("state")
	c := r.cookie("better-auth.state")
	value, _ := url.QueryUnescape(strings.TrimPrefix(strings.Split(c, ";")[0], "better-auth.state="))
	if !strings.HasPrefix(value, state+".") || !strings.Contains(c, "Max-Age=300; Path=/; HttpOnly; SameSite=Lax") {
		t.Fatalf("state cookie %q for state %q", c, state)
	}

	r = h.post("/sign-in/social", `{"provider":"fake","disableRedirect":true}`, "Content-Type", "application/json")
	if m := r.json(t); m["redirect"] != false || r.header.Get("Location") != "" {
		t.Fatalf("disableRedirect: %v, Location %q", m, r.header.Get("Location"))
	}
}

func TestSocialRoutes_Validation(t *testing.T) {
	h, _ := newSocialHarness(t)
	jar := h.signUp("alice@example.com")
	json := []string{"Content-Type", "application/json"}
	wantError(t, h.post("/sign-in/social", `{"provider":"fake","scopes":"email"}`, json...), 400, "VALIDATION_ERROR",
		"[body.scopes] Invalid input: expected array, received string")
	wantError(t, h.post("/sign-in/social", `{"provider":"nope","additionalParams":{"nonce":"x"}}`, json...), 400, "VALIDATION_ERROR",
		socialcore.ErrReservedParam.Message)
	wantError(t, h.post("/sign-in/social", `{"provider":"nope"}`, json...), 404, "PROVIDER_NOT_FOUND", "Provider not found")
	wantError(t, h.post("/sign-in/social", `{"provider":"fake","idToken":{"nonce":"n"}}`, json...), 400, "VALIDATION_ERROR",
		"[body.idToken.token] Invalid input: expected string, received undefined")
	wantError(t, h.post("/get-access-token", `{"accountId":"a","providerId":"fake"}`, append(json, "Cookie", jar)...), 400,
		"VALIDATION_ERROR", `[body] Unrecognized key: "providerId"`)
	wantError(t, h.post("/get-access-token", `{"accountId":"a"}`, json...), 401, "UNAUTHORIZED", "Unauthorized")
	wantError(t, h.post("/get-access-token", `{"accountId":"a"}`, append(json, "Cookie", jar)...), 400, "ACCOUNT_NOT_FOUND", "Account not found")
	wantError(t, h.get("/account-info", "Cookie", jar), 400, "VALIDATION_ERROR",
		"[query.accountId] Invalid input: expected string, received undefined")
	wantError(t, h.post("/unlink-account", `{"accountId":"a"}`, append(json, "Cookie", jar)...), 400,
		"FAILED_TO_UNLINK_LAST_ACCOUNT", "You can't unlink your last account")
	wantError(t, h.post("/link-social", `{"provider":"fake"}`, json...), 401, "UNAUTHORIZED", "Unauthorized")

	// The credential account has no provider to ask.
	accounts := h.get("/list-accounts", "Cookie", jar)
	cred := strings.Split(strings.SplitN(accounts.body, `"id":"`, 2)[1], `"`)[0]
	wantError(t, h.post("/get-access-token", `{"accountId":"`+cred+`"}`, append(json, "Cookie", jar)...), 400,
		"PROVIDER_NOT_SUPPORTED", "Provider not supported")
	wantError(t, h.get("/account-info?accountId="+cred, "Cookie", jar), 400, "PROVIDER_NOT_CONFIGURED",
		"Account is not associated with a configured social provider.")
}

// POST /callback/:id is a form_post provider's answer: it is handed to the
// GET callback, body and query merged with the query winning.
func TestSocialCallback_PostRedirectsToGet(t *testing.T) {
	h, _ := newSocialHarness(t)
	r := h.do("POST", "/api/auth/callback/fake?state=from-query", "code=c+1&state=from-body&user=%7B%7D",
		"Content-Type", "application/x-www-form-urlencoded")
	wantStatus(t, r, 302)
	if got := r.header.Get("Location"); got != testBaseURL+"/callback/fake?code=c+1&state=from-query&user=%7B%7D" {
		t.Fatalf("Location %q", got)
	}
	if c := r.cookie("better-auth.session_token"); c != "" {
		t.Fatalf("the POST callback set a session: %s", c)
	}
	r = h.do("POST", "/api/auth/callback/fake", `{"code":5}`, "Content-Type", "application/json")
	wantStatus(t, r, 400)
}
