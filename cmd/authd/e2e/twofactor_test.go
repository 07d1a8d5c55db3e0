package e2e

import (
	"errors"
	"os/exec"
	"testing"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/bunpg/bunpgtest"
)

// twoFactorOn is the contract setting both servers run the twoFactor suites
// with.
const twoFactorOn = "AUTH_TWO_FACTOR_ENABLED=true"

// TestReferenceTwoFactorSuite proves js/twofactor.test.mjs on better-auth
// with its twoFactor plugin.
func TestReferenceTwoFactorSuite(t *testing.T) {
	db, _ := bunpgtest.NewMigratedDatabase(t)
	mailDir := t.TempDir()
	ref := startReferenceWith(t, db, mailDir, twoFactorOn)
	runJSSuite(t, db, "twofactor.test.mjs", mailDir, "AUTHD_URL="+ref.Origin)
}

func TestAuthdTwoFactorSuite(t *testing.T) {
	installJS(t)
	db, _ := bunpgtest.NewMigratedDatabase(t)
	mailDir := t.TempDir()
	authd := startAuthd(t, db, startMailSink(t, mailDir), twoFactorOn)
	runJSSuite(t, db, "twofactor.test.mjs", mailDir, "AUTHD_URL="+authd.Origin)
}

// runJSSuite runs one node:test file in js/ with settings (KEY=VALUE) in its
// environment and fails t on any failing case.
func runJSSuite(t *testing.T, db bunpg.Config, file, mailDir string, settings ...string) {
	t.Helper()
	env := nodeEnv(db, append([]string{"MAIL_DIR=" + mailDir}, settings...)...)
	err := runNode(t, env, "--test", "--test-reporter=spec", file)
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		t.Fatalf("%s failed (exit %d); see the node output above", file, exit.ExitCode())
	case err != nil:
		t.Fatalf("run node: %v", err)
	}
}

// TestReferenceTwoFactorCrossServer proves js/twofactor-cross.test.mjs on
// two better-auth servers sharing one database.
func TestReferenceTwoFactorCrossServer(t *testing.T) {
	db, _ := bunpgtest.NewMigratedDatabase(t)
	mailDir := t.TempDir()
	a := startReferenceWith(t, db, mailDir, twoFactorOn)
	b := startReferenceWith(t, db, mailDir, twoFactorOn)
	runJSSuite(t, db, "twofactor-cross.test.mjs", mailDir, "A_URL="+a.Origin, "B_URL="+b.Origin)
}

// TestTwoFactorCrossServer runs js/twofactor-cross.test.mjs with authd and
// better-auth on one database, each in turn as the server that enrols and
// starts challenges.
func TestTwoFactorCrossServer(t *testing.T) {
	installJS(t)
	db, _ := bunpgtest.NewMigratedDatabase(t)
	mailDir := t.TempDir()
	authd := startAuthd(t, db, startMailSink(t, mailDir), twoFactorOn)
	ref := startReferenceWith(t, db, mailDir, twoFactorOn)
	t.Run("authd then better-auth", func(t *testing.T) {
		runJSSuite(t, db, "twofactor-cross.test.mjs", mailDir, "A_URL="+authd.Origin, "B_URL="+ref.Origin)
	})
	t.Run("better-auth then authd", func(t *testing.T) {
		runJSSuite(t, db, "twofactor-cross.test.mjs", mailDir, "A_URL="+ref.Origin, "B_URL="+authd.Origin)
	})
}

// The whole client suite with the plugin on: the flows of users without
// two-factor must not change, on either server.
func TestReferenceClientSuiteTwoFactorOn(t *testing.T) {
	db, _ := bunpgtest.NewMigratedDatabase(t)
	mailDir := t.TempDir()
	ref := startReferenceWith(t, db, mailDir, twoFactorOn)
	runClientSuiteWith(t, db, ref.Origin, mailDir, twoFactorOn)
}

func TestAuthdClientSuiteTwoFactorOn(t *testing.T) {
	installJS(t)
	db, _ := bunpgtest.NewMigratedDatabase(t)
	mailDir := t.TempDir()
	authd := startAuthd(t, db, startMailSink(t, mailDir), twoFactorOn)
	runClientSuiteWith(t, db, authd.Origin, mailDir, twoFactorOn)
}
