package e2e

import (
	"errors"
	"os/exec"
	"testing"
	"time"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/bunpg/bunpgtest"
	"github.com/authd/authd/adapters/oauth/oauthtest"
)

// startIdP serves the loopback OpenID provider both servers are pointed at.
func startIdP(t testing.TB) *oauthtest.IdP {
	t.Helper()
	idp := oauthtest.Start("client-e2e", "secret-e2e")
	t.Cleanup(idp.Close)
	return idp
}

// socialSettings configure a server (either) with the provider twice: as
// OIDC through discovery ("fake") and as plain OAuth2 endpoints without
// PKCE ("plain"), and copy a linked account's name onto the user.
func socialSettings(idp *oauthtest.IdP, extra ...string) []string {
	return append([]string{
		"AUTH_OAUTH_PROVIDERS=fake,plain",
		"AUTH_OAUTH_FAKE_CLIENT_ID=" + idp.ClientID, "AUTH_OAUTH_FAKE_CLIENT_SECRET=" + idp.ClientSecret,
		"AUTH_OAUTH_FAKE_DISCOVERY_URL=" + idp.DiscoveryURL(), "AUTH_OAUTH_FAKE_SCOPES=email profile",
		"AUTH_OAUTH_PLAIN_CLIENT_ID=" + idp.ClientID, "AUTH_OAUTH_PLAIN_CLIENT_SECRET=" + idp.ClientSecret,
		"AUTH_OAUTH_PLAIN_AUTHORIZATION_URL=" + idp.URL + "/authorize", "AUTH_OAUTH_PLAIN_TOKEN_URL=" + idp.URL + "/token",
		"AUTH_OAUTH_PLAIN_USER_INFO_URL=" + idp.URL + "/userinfo", "AUTH_OAUTH_PLAIN_SCOPES=email,profile",
		"AUTH_OAUTH_PLAIN_PKCE=false",
		"AUTH_ACCOUNT_LINKING_UPDATE_USER_INFO_ON_LINK=true",
	}, extra...)
}

// runJS runs one node test file with env and fails t if it fails.
func runJS(t *testing.T, env []string, file string) {
	t.Helper()
	err := runNode(t, env, "--test", "--test-reporter=spec", file)
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		t.Fatalf("%s failed (exit %d); see the node output above", file, exit.ExitCode())
	case err != nil:
		t.Fatalf("run node: %v", err)
	}
}

func runSocialSuite(t *testing.T, db bunpg.Config, idp *oauthtest.IdP, origin string) {
	t.Helper()
	runJS(t, nodeEnv(db, "AUTHD_URL="+origin, "IDP_URL="+idp.URL), "social.test.mjs")
}

// TestReferenceSocialSuite runs the social suite against better-auth with
// genericOAuth configured from the same variables: if it fails here, the
// suite (not authd) is wrong.
func TestReferenceSocialSuite(t *testing.T) {
	db, _ := bunpgtest.NewMigratedDatabase(t)
	idp := startIdP(t)
	ref := startReferenceWith(t, db, t.TempDir(), socialSettings(idp)...)
	runSocialSuite(t, db, idp, ref.Origin)
}

func TestAuthdSocialSuite(t *testing.T) {
	installJS(t)
	db, _ := bunpgtest.NewMigratedDatabase(t)
	idp := startIdP(t)
	mailDir := t.TempDir()
	authd := startAuthd(t, db, startMailSink(t, mailDir), socialSettings(idp)...)
	runSocialSuite(t, db, idp, authd.Origin)
}

// TestSocialCrossServer runs authd and better-auth on one database with the
// same provider, token encryption on, and has each read what the other
// wrote, both ways round.
func TestSocialCrossServer(t *testing.T) {
	installJS(t)
	db, _ := bunpgtest.NewMigratedDatabase(t)
	idp := startIdP(t)
	settings := socialSettings(idp, "AUTH_ENCRYPT_OAUTH_TOKENS=true")
	mailDir := t.TempDir()
	authd := startAuthd(t, db, startMailSink(t, mailDir), settings...)
	ref := startReferenceWith(t, db, mailDir, settings...)
	for _, order := range [][2]*server{{authd, ref}, {ref, authd}} {
		runJS(t, nodeEnv(db, "FIRST_URL="+order[0].Origin, "SECOND_URL="+order[1].Origin, "IDP_URL="+idp.URL),
			"social-cross.test.mjs")
	}
}

// TestAuthdFetchesDiscoveryAtStart: the generic providers' discovery
// documents are fetched once the server starts, before any sign-in.
func TestAuthdFetchesDiscoveryAtStart(t *testing.T) {
	db, _ := bunpgtest.NewMigratedDatabase(t)
	idp := startIdP(t)
	startAuthd(t, db, startMailSink(t, t.TempDir()), socialSettings(idp)...)
	deadline := time.Now().Add(30 * time.Second)
	for idp.DiscoveryRequests() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("authd has not fetched the discovery document 30 s after it became ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
