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
