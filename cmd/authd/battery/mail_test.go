package battery

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/authd/authd/adapters/mail/smtptest"
	"github.com/authd/authd/cmd/authd/authdtest"
)

// mailReplyLimit bounds reset requests while the mail server is broken:
// sending must not sit in the request path (battery 38).
const mailReplyLimit = time.Second

// TestMailServerFailure is battery 7 and 38: with the SMTP server refusing
// or hanging, password-reset requests for known and unknown addresses still
// get the identical 200 promptly, and sign-up (which mails a verification
// link here) still succeeds.
func TestMailServerFailure(t *testing.T) {
	pg := sharedCluster(t)
	db := pg.migratedDB(t)
	sink := smtptest.NewServer(t)
	a := startAuthd(t, authdEnv(pg, db, authdtest.FreeAddr(t)).with(
		"SMTP_HOST", sink.Host(), "SMTP_PORT", fmt.Sprint(sink.Port()),
		"AUTH_REQUIRE_EMAIL_VERIFICATION", "true"))
	// Hung SMTP dialogues would hold authd's mail queue, and so its
	// shutdown, for the mailer's timeout; hang up on them first. Cleanups
	// run last-in first-out, so this runs before authd is stopped.
	t.Cleanup(func() { _ = sink.Close() })

	c := newClient(a)
	known := uniqueEmail("mail-known")
	c.mustSignUp(t, known, "mail-password-1")
	waitMail(t, sink, known, "verification mail after sign-up")
	// A second account that asks for its first reset only after the outage,
	// so that a per-account mail cooldown cannot explain a missing mail.
	later := uniqueEmail("mail-later")
	c.mustSignUp(t, later, "mail-password-1")
	waitMail(t, sink, later, "verification mail after sign-up")

	reset := func(email string) *reply {
		t.Helper()
		r, err := c.post("/api/auth/request-password-reset", map[string]any{"email": email})
		if err != nil {
			t.Fatalf("request-password-reset: %v", err)
		}
		return r
	}
	healthy := reset(known)
	if healthy.Status != http.StatusOK {
		t.Fatalf("request-password-reset with a working mail server: %s", healthy)
	}
	waitMail(t, sink, known, "reset mail")

	for _, mode := range []struct {
		name string
		mode smtptest.Mode
	}{{"refuse", smtptest.Refuse}, {"hang", smtptest.Hang}} {
		sink.SetMode(mode.mode)
		var slowest time.Duration
		for i := range 5 {
			for _, email := range []string{known, uniqueEmail("mail-unknown")} {
				r := reset(email)
				slowest = max(slowest, r.Latency)
				if r.Status != healthy.Status || !bytes.Equal(r.Body, healthy.Body) {
					t.Errorf("%s: reset %d for %s: %s, want the same answer as with a working server: %s", mode.name, i, email, r, healthy)
				}
				if r.Latency > mailReplyLimit {
					t.Errorf("%s: reset %d for %s took %s, want < %s", mode.name, i, email, r.Latency.Round(time.Millisecond), mailReplyLimit)
				}
			}
		}
		fresh := uniqueEmail("mail-signup")
		r, err := newClient(a).signUp(fresh, "mail-password-2")
		switch {
		case err != nil:
			t.Errorf("%s: sign-up: %v", mode.name, err)
		case r.Status != http.StatusOK:
			t.Errorf("%s: sign-up: %s, want 200", mode.name, r)
		default:
			t.Logf("%s mode: 10 reset requests, slowest %s; sign-up answered %d in %s",
				mode.name, slowest.Round(time.Millisecond), r.Status, r.Latency.Round(time.Millisecond))
		}

		if mode.mode == smtptest.Refuse {
			// The queue must not be wedged by failures: once the server
			// accepts mail again, a new request is delivered.
			sink.SetMode(smtptest.OK)
			if r := reset(later); r.Status != http.StatusOK {
				t.Fatalf("request-password-reset after the server recovered: %s", r)
			}
			waitMail(t, sink, later, "reset mail after the server recovered")
		}
	}
	if !a.alive() {
		t.Fatalf("authd exited: %v", a.exit)
	}
}

func waitMail(t *testing.T, sink *smtptest.Server, to, what string) smtptest.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := sink.WaitFor(ctx, to)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return m
}
