package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/authd/authd/adapters/bunpg/bunpgtest"
	"github.com/authd/authd/adapters/oauth/oauthtest"
)

// goBrowser is an HTTP client with a cookie jar that does not follow
// redirects, sending the Origin a same-origin page would.
type goBrowser struct {
	origin string
	hc     *http.Client
}

func newGoBrowser(origin string) *goBrowser {
	jar, _ := cookiejar.New(nil)
	return &goBrowser{origin: origin, hc: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *goBrowser) do(t testing.TB, method, u string, body any) (*http.Response, []byte) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", b.origin)
	}
	res, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	return res, buf.Bytes()
}

// TestAuthdBuiltinProviders signs in through the binary with the built-in
// GitHub, Google, GitLab and Discord providers, each pointed by its
// AUTH_SOCIAL_<NAME>_BASE_URL at a fake of its API, and checks the account
// and user each maps. (better-auth's built-in providers cannot be pointed
// elsewhere, so only authd runs this.)
func TestAuthdBuiltinProviders(t *testing.T) {
	db, _ := bunpgtest.NewMigratedDatabase(t)
	idp := startIdP(t)
	discordUser := oauthtest.User{Sub: "discord-sub", Email: "discord-user@example.com", EmailVerified: true, Name: "Disco"}
	idp.AddUser(discordUser) // Discord sends no login hint: the provider's default user
	var settings []string
	for _, name := range []string{"GITHUB", "GOOGLE", "GITLAB", "DISCORD"} {
		settings = append(settings, "AUTH_SOCIAL_"+name+"_CLIENT_ID="+idp.ClientID,
			"AUTH_SOCIAL_"+name+"_CLIENT_SECRET="+idp.ClientSecret, "AUTH_SOCIAL_"+name+"_BASE_URL="+idp.URL)
	}
	mailDir := t.TempDir()
	authd := startAuthd(t, db, startMailSink(t, mailDir), settings...)

	cases := []struct {
		provider, email, name, scope string
		subject                      func(u oauthtest.User) string
	}{
		{"github", "gh-user@example.com", "gh-user", "read:user user:email",
			func(u oauthtest.User) string { return fmt.Sprint(oauthtest.NumericID(u)) }},
		{"google", "google-user@example.com", "IdP google-user", "email profile openid",
			func(u oauthtest.User) string { return u.Sub }},
		{"gitlab", "gitlab-user@example.com", "IdP gitlab-user", "read_user",
			func(u oauthtest.User) string { return fmt.Sprint(oauthtest.NumericID(u)) }},
		{"discord", discordUser.Email, "Disco", "identify email",
			func(u oauthtest.User) string { return fmt.Sprint(oauthtest.NumericID(u) << 22) }},
	}
	for _, c := range cases {
		t.Run(c.provider, func(t *testing.T) {
			b := newGoBrowser(authd.Origin)
			res, body := b.do(t, http.MethodPost, authd.Origin+"/api/auth/sign-in/social", map[string]any{"provider": c.provider,
				"callbackURL": "/dash", "newUserCallbackURL": "/welcome", "loginHint": c.email, "disableRedirect": true})
			var started struct{ URL string }
			if res.StatusCode != 200 || json.Unmarshal(body, &started) != nil {
				t.Fatalf("sign-in/social: %d %s", res.StatusCode, body)
			}
			authz, _ := url.Parse(started.URL)
			if got := authz.Query().Get("scope"); got != c.scope {
				t.Errorf("scope %q, want %q", got, c.scope)
			}
			res, _ = b.do(t, http.MethodGet, started.URL, nil)
			callback := res.Header.Get("Location")
			if !strings.HasPrefix(callback, authd.Origin+"/api/auth/callback/"+c.provider+"?") {
				t.Fatalf("provider redirected to %q", callback)
			}
			res, _ = b.do(t, http.MethodGet, callback, nil)
			if loc := res.Header.Get("Location"); loc != "/welcome" {
				t.Fatalf("callback redirected to %q", loc)
			}
			_, body = b.do(t, http.MethodGet, authd.Origin+"/api/auth/get-session", nil)
			var s struct {
				User struct {
					Email, Name   string
					EmailVerified bool
				}
			}
			if json.Unmarshal(body, &s) != nil || s.User.Email != c.email || !s.User.EmailVerified || s.User.Name != c.name {
				t.Fatalf("session %s", body)
			}
			_, body = b.do(t, http.MethodGet, authd.Origin+"/api/auth/list-accounts", nil)
			var accounts []struct{ ProviderID, AccountID string }
			if json.Unmarshal(body, &accounts) != nil || len(accounts) != 1 || accounts[0].ProviderID != c.provider {
				t.Fatalf("accounts %s", body)
			}
			want := c.subject(oauthtest.User{Sub: subjectOf(c.email, discordUser)})
			if accounts[0].AccountID != want {
				t.Fatalf("account id %q, want %q", accounts[0].AccountID, want)
			}
		})
	}
}

// subjectOf is the fake provider's subject for email (see oauthtest).
func subjectOf(email string, known oauthtest.User) string {
	if email == known.Email {
		return known.Sub
	}
	return oauthtest.AutoUser(email).Sub
}
