package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/authd/authd/adapters/bunpg/bunpgtest"
)

// TestSocialFlowsFinishOnTheOtherServer puts authd and better-auth behind
// one public URL on one database, as two instances of a deployment, and has
// a flow begun on one finished on the other: the state row's JSON, the
// signed state cookie and the link state's encrypted session token must
// mean the same to both. Both ways round, for sign-in and for link-social.
func TestSocialFlowsFinishOnTheOtherServer(t *testing.T) {
	installJS(t)
	db, _ := bunpgtest.NewMigratedDatabase(t)
	idp := startIdP(t)
	app := startAppProxy(t)
	mailDir := t.TempDir()
	authd := startAuthd(t, db, startMailSink(t, mailDir), socialSettings(idp, "AUTH_BASE_URL="+app.srv.URL+"/api")...)
	ref := startReferenceWith(t, db, mailDir, socialSettings(idp, "PUBLIC_URL="+app.srv.URL)...)
	api := app.srv.URL + "/api/auth"

	// consent starts a flow's provider leg and returns the callback URL.
	consent := func(t *testing.T, b *goBrowser, res *http.Response, body []byte) string {
		t.Helper()
		var started struct{ URL string }
		if res.StatusCode != 200 || json.Unmarshal(body, &started) != nil {
			t.Fatalf("start: %d %s", res.StatusCode, body)
		}
		res, _ = b.do(t, http.MethodGet, started.URL, nil)
		return res.Header.Get("Location")
	}
	sessionEmail := func(t *testing.T, b *goBrowser) string {
		t.Helper()
		_, body := b.do(t, http.MethodGet, api+"/get-session", nil)
		var s struct{ User struct{ Email string } }
		json.Unmarshal(body, &s)
		return s.User.Email
	}

	for _, order := range []struct {
		name        string
		first, last *server
	}{{"authd then better-auth", authd, ref}, {"better-auth then authd", ref, authd}} {
		t.Run(order.name, func(t *testing.T) {
			email := strings.ReplaceAll(strings.ToLower(t.Name()), "/", "-")
			email = strings.ReplaceAll(email, " ", "-") + "@example.com"
			b := newGoBrowser(app.srv.URL)
			app.to(t, order.first.Origin)
			res, body := b.do(t, http.MethodPost, api+"/sign-in/social", map[string]any{"provider": "fake",
				"callbackURL": "/dash", "newUserCallbackURL": "/welcome", "errorCallbackURL": "/oops",
				"loginHint": email, "disableRedirect": true})
			callback := consent(t, b, res, body)
			app.to(t, order.last.Origin)
			res, _ = b.do(t, http.MethodGet, callback, nil)
			if loc := res.Header.Get("Location"); loc != "/welcome" {
				t.Fatalf("sign-in finished on the other server went to %q", loc)
			}
			if got := sessionEmail(t, b); got != email {
				t.Fatalf("signed in as %q", got)
			}

			linker := newGoBrowser(app.srv.URL)
			app.to(t, order.first.Origin)
			linkEmail := "link-" + email
			res, body = linker.do(t, http.MethodPost, api+"/sign-up/email", map[string]any{"name": "L", "email": linkEmail,
				"password": "correct horse battery"})
			if res.StatusCode != 200 {
				t.Fatalf("sign-up: %d %s", res.StatusCode, body)
			}
			res, body = linker.do(t, http.MethodPost, api+"/link-social", map[string]any{"provider": "fake",
				"callbackURL": "/linked", "errorCallbackURL": "/oops", "loginHint": linkEmail, "disableRedirect": true})
			callback = consent(t, linker, res, body)
			app.to(t, order.last.Origin)
			res, _ = linker.do(t, http.MethodGet, callback, nil)
			if loc := res.Header.Get("Location"); loc != "/linked" {
				t.Fatalf("link finished on the other server went to %q", loc)
			}
			_, body = linker.do(t, http.MethodGet, api+"/list-accounts", nil)
			if !strings.Contains(string(body), `"providerId":"fake"`) {
				t.Fatalf("accounts after the link: %s", body)
			}
		})
	}
}
