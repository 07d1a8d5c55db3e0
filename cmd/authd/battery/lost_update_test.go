package battery

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/authd/authd/adapters/mail/smtptest"
	"github.com/authd/authd/cmd/authd/authdtest"
)

// TestConcurrentUserUpdatesAreNotLost is battery 33's verification leg
// crossed with a profile update (ASVS 15.4.2): a user follows their
// verification link while a profile update of theirs is in flight. Both
// answer 200, so both changes must be kept: the user ends verified and
// renamed.
//
// Both flows read the user, then write every column back. A side
// transaction holding LOCK TABLE "user" IN EXCLUSIVE MODE (which lets
// reads through but queues writes) makes both reads happen before either
// write, which in production needs only an unlucky millisecond.
func TestConcurrentUserUpdatesAreNotLost(t *testing.T) {
	pg := sharedCluster(t)
	name := pg.migratedDB(t)
	sink := smtptest.NewServer(t)
	a := startAuthd(t, authdEnv(pg, name, authdtest.FreeAddr(t)).with("SMTP_HOST", sink.Host(), "SMTP_PORT", fmt.Sprint(sink.Port()),
		"DB_QUERY_TIMEOUT", "10s"))
	t.Cleanup(func() { _ = sink.Close() })
	db := pg.open(t, name)

	email := uniqueEmail("lost")
	c := newClient(a)
	c.mustSignUp(t, email, "lost-password-1")
	if r, err := c.post("/api/auth/send-verification-email", map[string]any{"email": email}); err != nil || r.Status != http.StatusOK {
		t.Fatalf("send-verification-email: %v %v", r, err)
	}
	var token string
	for _, l := range waitMail(t, sink, email, "verification mail").Links() {
		if u, err := url.Parse(l); err == nil && u.Query().Get("token") != "" {
			token = u.Query().Get("token")
		}
	}
	if token == "" {
		t.Fatal("no token in the verification mail")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lock, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lock.Rollback() }()
	if _, err := lock.ExecContext(ctx, `LOCK TABLE "user" IN EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}

	verified := make(chan outcome, 1)
	go func() {
		r, err := newClient(a).get("/api/auth/verify-email?token=" + url.QueryEscape(token))
		verified <- outcome{r, err}
	}()
	waitForLockWaiters(t, db, name, 1)
	renamed := make(chan outcome, 1)
	go func() {
		r, err := c.post("/api/auth/update-user", map[string]any{"name": "Renamed User"})
		renamed <- outcome{r, err}
	}()
	waitForLockWaiters(t, db, name, 2)
	if err := lock.Commit(); err != nil {
		t.Fatal(err)
	}
	for what, ch := range map[string]chan outcome{"verify-email": verified, "update-user": renamed} {
		if o := <-ch; o.err != nil || o.r.Status != http.StatusOK {
			t.Fatalf("%s: %v", what, o)
		}
	}

	var row struct {
		Name          string
		EmailVerified bool
	}
	if err := db.NewRaw(`SELECT name, email_verified FROM "user" WHERE email = ?`, email).Scan(ctx, &row.Name, &row.EmailVerified); err != nil {
		t.Fatal(err)
	}
	t.Logf("after both answered 200: name %q, emailVerified %v", row.Name, row.EmailVerified)
	if !row.EmailVerified {
		t.Errorf("the verification was lost: a concurrent profile update wrote emailVerified=false back")
	}
	if row.Name != "Renamed User" {
		t.Errorf("the rename was lost: a concurrent verification wrote the old name back")
	}
}

// waitForLockWaiters waits until n backends of database name wait for a
// lock.
func waitForLockWaiters(t *testing.T, db *bun.DB, name string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if count(t, db, `SELECT count(*) FROM pg_stat_activity WHERE datname = ? AND wait_event_type = 'Lock'`, name) >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("fewer than %d requests ever waited for the table lock", n)
}
