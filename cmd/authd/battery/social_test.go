package battery

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/adapters/oauth/oauthtest"
	"github.com/authd/authd/cmd/authd/authdtest"
)

// socialFlow is one sign-in begun by a client: its state and the
// provider's answer (the callback query).
type socialFlow struct {
	state string
	back  url.Values
}

// beginSocial starts a sign-in at provider and has the provider consent;
// the client's jar keeps the state cookie.
func beginSocial(t *testing.T, c *client, provider, email string) socialFlow {
	t.Helper()
	r, err := c.post("/api/auth/sign-in/social", map[string]any{"provider": provider, "callbackURL": "/dash",
		"errorCallbackURL": "/oops", "loginHint": email, "disableRedirect": true})
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("sign-in/social: %v %v", r, err)
	}
	var body struct{ URL string }
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	res, err := c.hc.Get(body.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusFound {
		t.Fatalf("provider answered %d %v", res.StatusCode, err)
	}
	return socialFlow{state: loc.Query().Get("state"), back: loc.Query()}
}

// callback opens the callback with q and returns where it redirects.
func callback(t *testing.T, c *client, provider string, q url.Values) *reply {
	t.Helper()
	r, err := c.get("/api/auth/callback/" + provider + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != http.StatusFound {
		t.Fatalf("callback answered %s, want 302", r)
	}
	return r
}

func wantRedirect(t *testing.T, r *reply, want string) {
	t.Helper()
	if got := r.Header.Get("Location"); got != want {
		t.Fatalf("redirected to %q, want %q", got, want)
	}
}

// wantRefused is a redirect to want that signs nobody in.
func wantRefused(t *testing.T, r *reply, want string) {
	t.Helper()
	wantRedirect(t, r, want)
	for _, sc := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(sc, "better-auth.session_token=") && !strings.Contains(sc, "Max-Age=0") {
			t.Fatalf("a refused callback set a session: %s", sc)
		}
	}
}

// TestSocialAbuse attacks the social sign-in flow of the binary: state
// replay, a callback without or with a forged state cookie, mixed-up
// providers, code injection, open redirects through the callback URLs,
// oversized parameters, and providers that hang or answer garbage.
func TestSocialAbuse(t *testing.T) {
	idp := oauthtest.Start("battery-client", "battery-secret")
	defer idp.Close()
	other := oauthtest.Start("battery-client", "battery-secret")
	defer other.Close()
	pg := sharedCluster(t)
	e := authdEnv(pg, pg.migratedDB(t), authdtest.FreeAddr(t)).with(
		"AUTH_OAUTH_PROVIDERS", "fake,other", "AUTH_OAUTH_TIMEOUT", "1s",
		"AUTH_OAUTH_FAKE_CLIENT_ID", idp.ClientID, "AUTH_OAUTH_FAKE_CLIENT_SECRET", idp.ClientSecret,
		"AUTH_OAUTH_FAKE_DISCOVERY_URL", idp.DiscoveryURL(),
		"AUTH_OAUTH_OTHER_CLIENT_ID", other.ClientID, "AUTH_OAUTH_OTHER_CLIENT_SECRET", other.ClientSecret,
		"AUTH_OAUTH_OTHER_DISCOVERY_URL", other.DiscoveryURL())
	a := startAuthd(t, e)
	errorPage := a.Origin + "/api/auth/error"

	t.Run("state replay", func(t *testing.T) {
		c := newClient(a)
		f := beginSocial(t, c, "fake", uniqueEmail("replay"))
		wantRedirect(t, callback(t, c, "fake", f.back), "/dash")
		wantRefused(t, callback(t, c, "fake", f.back), errorPage+"?error=state_mismatch")
	})

	t.Run("callback without or with a forged state cookie", func(t *testing.T) {
		c := newClient(a)
		f := beginSocial(t, c, "fake", uniqueEmail("nocookie"))
		before := len(idp.TokenRequests())
		wantRefused(t, callback(t, newClient(a), "fake", f.back), "/oops?error=state_mismatch")
		forged := newClient(a)
		u, _ := url.Parse(a.Origin)
		forged.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "better-auth.state",
			Value: url.QueryEscape(f.state + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")}})
		wantRefused(t, callback(t, forged, "fake", f.back), "/oops?error=state_mismatch")
		if n := len(idp.TokenRequests()); n != before {
			t.Fatalf("a callback without the state cookie redeemed the code (%d token requests)", n-before)
		}
		wantRedirect(t, callback(t, c, "fake", f.back), "/dash")
	})

	t.Run("mixed-up providers", func(t *testing.T) {
		c := newClient(a)
		f := beginSocial(t, c, "fake", uniqueEmail("mixup"))
		q := url.Values{"code": {f.back.Get("code")}, "state": {f.state}, "iss": {other.URL}}
		wantRefused(t, callback(t, c, "fake", q), "/oops?error=issuer_mismatch")
		// A code and state from one provider brought to another's callback:
		// its token endpoint never issued that code.
		f = beginSocial(t, c, "fake", uniqueEmail("mixup2"))
		q = url.Values{"code": {f.back.Get("code")}, "state": {f.state}}
		wantRefused(t, callback(t, c, "other", q), "/oops?error=invalid_code")
	})

	t.Run("code injection", func(t *testing.T) {
		attacker, victim := newClient(a), newClient(a)
		fa := beginSocial(t, attacker, "fake", uniqueEmail("attacker"))
		fv := beginSocial(t, victim, "fake", uniqueEmail("victim"))
		q := url.Values{"code": {fa.back.Get("code")}, "state": {fv.state}, "iss": {idp.URL}}
		wantRefused(t, callback(t, victim, "fake", q), "/oops?error=invalid_code")
	})

	t.Run("open redirect through the callback URLs", func(t *testing.T) {
		c := newClient(a)
		for field, code := range map[string]string{"callbackURL": "INVALID_CALLBACK_URL",
			"errorCallbackURL": "INVALID_ERROR_CALLBACK_URL", "newUserCallbackURL": "INVALID_NEW_USER_CALLBACK_URL"} {
			for _, target := range []string{"https://evil.example/x", "//evil.example/x", `/\evil.example`, "javascript:alert(1)"} {
				r, err := c.post("/api/auth/sign-in/social", map[string]any{"provider": "fake", field: target})
				if err != nil || r.Status != http.StatusForbidden || r.code() != code {
					t.Errorf("%s=%s: %v %v, want 403 %s", field, target, r, err, code)
				}
			}
		}
	})

	t.Run("oversized parameters", func(t *testing.T) {
		c := newClient(a)
		if status := oversizedRequest(t, a, "GET /api/auth/callback/fake?state="+strings.Repeat("s", 64<<10)+"&code=x HTTP/1.1\r\nHost: x\r\n\r\n"); status < 400 || status >= 500 {
			t.Fatalf("a 64 KiB state: %d, want a 4xx", status)
		}
		scopes, _ := json.Marshal(map[string]any{"provider": "fake", "scopes": strings.Split(strings.Repeat("s,", 40<<10), ",")})
		if status := oversizedRequest(t, a, "POST /api/auth/sign-in/social HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
			"Content-Length: "+strconv.Itoa(len(scopes))+"\r\n\r\n"+string(scopes)); status != http.StatusRequestEntityTooLarge {
			t.Fatalf("an 80 KiB scope list: %d, want 413", status)
		}
		r, err := c.post("/api/auth/sign-in/social", map[string]any{"provider": "fake",
			"additionalParams": map[string]any{"redirect_uri": "https://evil.example"}})
		if err != nil || r.Status != http.StatusBadRequest || r.code() != "VALIDATION_ERROR" {
			t.Fatalf("a reserved additional parameter: %v %v, want 400 VALIDATION_ERROR", r, err)
		}
		if !a.alive() {
			t.Fatal("authd died")
		}
	})

	t.Run("slow or broken provider", func(t *testing.T) {
		c := newClient(a)
		f := beginSocial(t, c, "fake", uniqueEmail("slow"))
		// The token endpoint hangs far longer than the client waits: only
		// AUTH_OAUTH_TIMEOUT can turn this into an answer.
		idp.Set(oauthtest.Behaviour{Delay: time.Hour})
		wantRefused(t, callback(t, c, "fake", f.back), "/oops?error=invalid_code")
		idp.Set(oauthtest.Behaviour{Garbage: true})
		f = beginSocialAfter(t, c, idp, "fake", uniqueEmail("garbage"))
		wantRefused(t, callback(t, c, "fake", f.back), "/oops?error=invalid_code")
		idp.Set(oauthtest.Behaviour{TokenStatus: http.StatusInternalServerError})
		f = beginSocialAfter(t, c, idp, "fake", uniqueEmail("error"))
		wantRefused(t, callback(t, c, "fake", f.back), "/oops?error=invalid_code")
		idp.Set(oauthtest.Behaviour{})
		if !a.alive() {
			t.Fatal("authd died")
		}
	})

	t.Run("tokens never reach the log", func(t *testing.T) {
		c := newClient(a)
		f := beginSocial(t, c, "fake", uniqueEmail("logs"))
		wantRedirect(t, callback(t, c, "fake", f.back), "/dash")
		logs := a.stderr.String()
		for _, secret := range []string{f.back.Get("code"), f.state, "at-", "rt-", "eyJ", idp.ClientSecret} {
			if strings.Contains(logs, secret) {
				t.Fatalf("the log holds %q", secret)
			}
		}
	})
}

// beginSocialAfter is beginSocial while the provider misbehaves: the
// authorization leg is the browser's, so it is done with the provider
// behaving, then the misbehaviour is restored for the callback.
func beginSocialAfter(t *testing.T, c *client, idp *oauthtest.IdP, provider, email string) socialFlow {
	t.Helper()
	b := idp.Behaviour()
	idp.Set(oauthtest.Behaviour{})
	defer idp.Set(b)
	return beginSocial(t, c, provider, email)
}
