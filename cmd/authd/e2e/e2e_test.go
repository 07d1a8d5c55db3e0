package e2e

import (
	"testing"

	"github.com/authd/authd/adapters/bunpg/bunpgtest"
)

// TestReferenceClientSuite runs the client suite against better-auth itself
// on authd's schema: if it fails here, the suite (not authd) is wrong.
func TestReferenceClientSuite(t *testing.T) {
	db, _ := bunpgtest.NewMigratedDatabase(t)
	mailDir := t.TempDir()
	ref := startReference(t, db, mailDir)
	runClientSuite(t, db, ref.Origin, mailDir)
}

// TestAuthdClientSuite runs the same suite against the authd binary, its
// mails going through a loopback SMTP sink into the directory the suite reads.
func TestAuthdClientSuite(t *testing.T) {
	installJS(t)
	db, _ := bunpgtest.NewMigratedDatabase(t)
	mailDir := t.TempDir()
	authd := startAuthd(t, db, startMailSink(t, mailDir))
	runClientSuite(t, db, authd.Origin, mailDir)
}

// deleteAtOnce is better-auth's other /delete-user mode (no
// sendDeleteAccountVerification). The whole suite runs in it on both
// servers: its "delete-user" group changes with the mode, the rest must not.
const deleteAtOnce = "AUTH_DELETE_USER_CONFIRM_BY_EMAIL=false"

func TestReferenceClientSuiteDeleteAtOnce(t *testing.T) {
	db, _ := bunpgtest.NewMigratedDatabase(t)
	mailDir := t.TempDir()
	ref := startReferenceWith(t, db, mailDir, deleteAtOnce)
	runClientSuiteWith(t, db, ref.Origin, mailDir, deleteAtOnce)
}

func TestAuthdClientSuiteDeleteAtOnce(t *testing.T) {
	installJS(t)
	db, _ := bunpgtest.NewMigratedDatabase(t)
	mailDir := t.TempDir()
	authd := startAuthd(t, db, startMailSink(t, mailDir), deleteAtOnce)
	runClientSuiteWith(t, db, authd.Origin, mailDir, deleteAtOnce)
}
