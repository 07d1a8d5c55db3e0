package battery

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/adapters/mail/smtptest"
	"github.com/authd/authd/cmd/authd/authdtest"
)

// TestConcurrentRefreshAndVerification is battery 33 on Postgres: 50
// simultaneous get-session calls on a session due for its sliding refresh
// all answer 200 with the user and one consistent cookie, and the row slides
// once to a full lifetime; 10 simultaneous follows of one verification link
// all answer 200, verify the user and create no session.
func TestConcurrentRefreshAndVerification(t *testing.T) {
	pg := sharedCluster(t)
	name := pg.migratedDB(t)
	sink := smtptest.NewServer(t)
	a := startAuthd(t, authdEnv(pg, name, authdtest.FreeAddr(t)).with("SMTP_HOST", sink.Host(), "SMTP_PORT", fmt.Sprint(sink.Port())))
	t.Cleanup(func() { _ = sink.Close() })
	db := pg.open(t, name)

	email := uniqueEmail("refresh")
	c := newClient(a)
	// Concurrent requests leave connections that never carried one; they
	// would hold authd's shutdown for its read timeout (see BATTERY.md, 37).
	t.Cleanup(c.hc.CloseIdleConnections)
	token := bodyToken(t, c.mustSignUp(t, email, "refresh-password-1"))
	// Age the session past updateAge (1 day of its 7): better-auth slides it
	// once expiresAt - 7 d + 1 d <= now.
	execSQL(t, db, `UPDATE session SET expires_at = (now() AT TIME ZONE 'utc') + interval '6 days' - interval '1 minute' WHERE token = '`+token+`'`)

	res := together(50, func(int) outcome {
		r, err := c.get("/api/auth/get-session")
		return outcome{r, err}
	})
	statuses := map[int]int{}
	cookies := map[string]int{}
	for i, o := range res {
		if o.err != nil {
			t.Errorf("get-session %d: %v", i, o.err)
			continue
		}
		statuses[o.r.Status]++
		if got, err := sessionEmail(o.r.Body); o.r.Status != http.StatusOK || err != nil || got != email {
			t.Errorf("get-session %d: %s, want 200 with %s", i, o, email)
		}
		for _, sc := range o.r.Header.Values("Set-Cookie") {
			value, _, _ := strings.Cut(sc, ";")
			cookies[value]++
		}
	}
	t.Logf("50 concurrent get-session at the refresh boundary: %s; distinct session cookies set: %d", histogram(statuses), len(cookies))
	if len(cookies) > 1 {
		t.Errorf("the concurrent refreshes set %d different cookies: %v", len(cookies), cookies)
	}
	if n := count(t, db, `SELECT count(*) FROM session WHERE token = ? AND expires_at > (now() AT TIME ZONE 'utc') + interval '7 days' - interval '1 minute'`, token); n != 1 {
		t.Errorf("the session did not slide to a full lifetime")
	}
	if n := count(t, db, `SELECT count(*) FROM session s JOIN "user" u ON u.id = s.user_id WHERE u.email = ?`, email); n != 1 {
		t.Errorf("%d sessions, want 1", n)
	}

	if r, err := c.post("/api/auth/send-verification-email", map[string]any{"email": email}); err != nil || r.Status != http.StatusOK {
		t.Fatalf("send-verification-email: %v %v", r, err)
	}
	var link string
	for _, l := range waitMail(t, sink, email, "verification mail").Links() {
		if u, err := url.Parse(l); err == nil && u.Query().Get("token") != "" {
			link = "/api/auth/verify-email?token=" + url.QueryEscape(u.Query().Get("token"))
		}
	}
	if link == "" {
		t.Fatal("no verification link in the mail")
	}
	anon := newClient(a)
	t.Cleanup(anon.hc.CloseIdleConnections)
	start := time.Now()
	verified := together(10, func(int) outcome {
		r, err := anon.get(link)
		return outcome{r, err}
	})
	for i, o := range verified {
		if o.err != nil || o.r.Status != http.StatusOK || string(o.r.Body) != `{"status":true,"user":null}` || len(o.r.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("verify-email %d: %s, want 200 {\"status\":true,\"user\":null} without cookies", i, o)
		}
	}
	t.Logf("10 concurrent follows of one verification link answered in %s", time.Since(start).Round(time.Millisecond))
	if n := count(t, db, `SELECT count(*) FROM "user" WHERE email = ? AND email_verified`, email); n != 1 {
		t.Errorf("user not verified")
	}
	if n := count(t, db, `SELECT count(*) FROM session s JOIN "user" u ON u.id = s.user_id WHERE u.email = ?`, email); n != 1 {
		t.Errorf("%d sessions after the verification, want still 1", n)
	}
}
