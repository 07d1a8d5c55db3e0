package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/authd/authd/adapters/bunpg/bunpgtest"
	"github.com/authd/authd/adapters/oauth/oauthtest"
)

// appPage is a one-page app on the auth server's origin: a button that
// starts a social sign-in with the provider named by ?provider= ("fake"
// by default), and the signed-in user once there is one.
const appPage = `<!doctype html>
<title>App</title>
<p id="status">loading</p>
<button id="signin" onclick="signIn()">Sign in with Fake</button>
<script>
async function signIn() {
	const res = await fetch("/api/auth/sign-in/social", {method: "POST", headers: {"content-type": "application/json"},
		body: JSON.stringify({provider: new URLSearchParams(location.search).get("provider") || "fake", callbackURL: "/",
			loginHint: "browser-user@example.com"})});
	const data = await res.json();
	location.href = data.url;
}
fetch("/api/auth/get-session").then(r => r.json()).then(s => {
	document.getElementById("status").textContent = s ? "Signed in as " + s.user.email : "Signed out";
});
</script>`

// appProxy serves appPage at / and passes /api/ to the server behind it,
// so that page, API and cookies share one origin, as in a deployment.
type appProxy struct {
	srv    *httptest.Server
	target atomic.Pointer[httputil.ReverseProxy]
}

func startAppProxy(t *testing.T) *appProxy {
	t.Helper()
	p := &appProxy{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			p.target.Load().ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(appPage))
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *appProxy) to(t *testing.T, origin string) {
	u, err := url.Parse(origin)
	if err != nil {
		t.Fatal(err)
	}
	p.target.Store(httputil.NewSingleHostReverseProxy(u))
}

// clickThroughSignIn drives headless Chromium: the app page, its sign-in
// button, the provider's consent page, back through the callback to the
// app, which must show the signed-in user.
func clickThroughSignIn(t *testing.T, appURL string) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is required (Debian package chromium; .ci/run installs it): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.Flag("disable-background-networking", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// The first action starts the browser, which lives as long as its
	// context: the deadline goes on the steps after it.
	if err := chromedp.Do(ctx, chromedp.Navigate(appURL)); err != nil {
		t.Fatalf("browser: %v", err)
	}
	steps, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err = chromedp.Do(steps,
		chromedp.WaitVisible(`#signin`),
		chromedp.Click(`#signin`, chromedp.NodeVisible),
		chromedp.WaitVisible(`#allow`),
		chromedp.Click(`#allow`, chromedp.NodeVisible),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	// The consent link leads through the callback back to the app, whose
	// status line fills in once get-session answers.
	if err := chromedp.Do(steps, chromedp.WaitVisible(`//p[@id="status" and starts-with(text(), "Signed")]`)); err != nil {
		t.Fatalf("browser: the app never showed a session state: %v", err)
	}
	status, err := chromedp.Run(steps, chromedp.Text(`#status`))
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return status
}

// TestBrowserSocialSignIn clicks through a social sign-in in a real browser,
// against authd and against better-auth (the page and the flow must work
// with either).
func TestBrowserSocialSignIn(t *testing.T) {
	installJS(t)
	idp := startIdP(t)
	idp.Set(oauthtest.Behaviour{ConsentPage: true})
	for _, name := range []string{"authd", "better-auth"} {
		t.Run(name, func(t *testing.T) {
			db, _ := bunpgtest.NewMigratedDatabase(t)
			app := startAppProxy(t)
			var s *server
			if name == "authd" {
				mailDir := t.TempDir()
				s = startAuthd(t, db, startMailSink(t, mailDir), socialSettings(idp, "AUTH_BASE_URL="+app.srv.URL+"/api")...)
			} else {
				s = startReferenceWith(t, db, t.TempDir(), socialSettings(idp, "PUBLIC_URL="+app.srv.URL)...)
			}
			app.to(t, s.Origin)
			if got := clickThroughSignIn(t, app.srv.URL+"/"); got != "Signed in as browser-user@example.com" {
				t.Fatalf("the app shows %q", got)
			}
		})
	}
}

// TestBrowserAppleFormPost clicks through a sign-in with the built-in Apple
// provider pointed at the fake, which answers as Apple does: a form the
// browser posts cross-site to the callback. authd hands the POST to the GET
// callback so that the browser brings its SameSite=Lax state cookie.
// (better-auth's Apple endpoints cannot be pointed elsewhere.)
func TestBrowserAppleFormPost(t *testing.T) {
	idp := startIdP(t)
	idp.AddUser(oauthtest.User{Sub: "001.apple", Email: "browser-user@example.com", EmailVerified: true, Name: "Apple User"})
	idp.Set(oauthtest.Behaviour{ConsentPage: true})
	db, _ := bunpgtest.NewMigratedDatabase(t)
	app := startAppProxy(t)
	// The app is served as localhost and the provider as 127.0.0.1: two
	// sites, as Apple and an app are, so that the posted answer carries no
	// SameSite=Lax cookie (a same-site post would, and would then need a
	// trusted Origin).
	appURL := strings.Replace(app.srv.URL, "127.0.0.1", "localhost", 1)
	s := startAuthd(t, db, startMailSink(t, t.TempDir()), "AUTH_BASE_URL="+appURL+"/api",
		"AUTH_SOCIAL_APPLE_CLIENT_ID="+idp.ClientID, "AUTH_SOCIAL_APPLE_CLIENT_SECRET="+idp.ClientSecret,
		"AUTH_SOCIAL_APPLE_BASE_URL="+idp.URL)
	app.to(t, s.Origin)
	if got := clickThroughSignIn(t, appURL+"/?provider=apple"); got != "Signed in as browser-user@example.com" {
		t.Fatalf("the app shows %q", got)
	}
}
