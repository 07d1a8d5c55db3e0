package battery

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/authd/authd/cmd/authd/authdtest"
)

// slowUA marks the sign-in whose session insert a trigger holds up.
const slowUA = "battery-slow-signin"

// TestSignInRacingPasswordChange is battery 32 made deterministic: a
// sign-in has checked the old password and is inserting its session when a
// change-password with revokeOtherSessions commits. The sign-in's session
// must not survive: once the change has answered, no session made with the
// old password may be alive (ASVS 7.4.3).
//
// A trigger that sleeps inside the sign-in's session INSERT (and only that
// one, picked by its User-Agent) widens the window between the sign-in's
// re-read of the password hash and its insert, which in production is one
// round trip.
func TestSignInRacingPasswordChange(t *testing.T) {
	pg := sharedCluster(t)
	name := pg.migratedDB(t)
	a := startAuthd(t, authdEnv(pg, name, authdtest.FreeAddr(t)).with("DB_QUERY_TIMEOUT", "10s"))
	db := pg.open(t, name)

	email, oldPassword, newPassword := uniqueEmail("race"), "race-old-password", "race-new-password"
	owner := newClient(a)
	owner.mustSignUp(t, email, oldPassword)

	execSQL(t, db, `
CREATE FUNCTION battery_slow_session() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_sleep(1.5);
	RETURN NEW;
END $$`)
	execSQL(t, db, `CREATE TRIGGER battery_slow_session BEFORE INSERT ON session FOR EACH ROW
		WHEN (NEW.user_agent = '`+slowUA+`') EXECUTE FUNCTION battery_slow_session()`)

	attacker := newClient(a)
	type result struct {
		r   *reply
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := attacker.doUA(http.MethodPost, "/api/auth/sign-in/email", map[string]any{"email": email, "password": oldPassword}, slowUA)
		done <- result{r, err}
	}()
	waitForSleepingBackend(t, db, name)

	r, err := owner.post("/api/auth/change-password", map[string]any{
		"currentPassword": oldPassword, "newPassword": newPassword, "revokeOtherSessions": true})
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("change-password: %v %v", r, err)
	}
	changedAt := time.Now()
	res := <-done
	if res.err != nil {
		t.Fatalf("slow sign-in: %v", res.err)
	}
	t.Logf("sign-in with the old password, racing the change: %s (answered %s after the change)", res.r, time.Since(changedAt).Round(time.Millisecond))

	if res.r.Status == http.StatusOK {
		g, err := attacker.get("/api/auth/get-session")
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := sessionEmail(g.Body); got != "" {
			t.Errorf("a session made with the old password outlived the password change: get-session %s", g)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM session s JOIN "user" u ON u.id = s.user_id WHERE u.email = ?`, email); n != 1 {
		t.Errorf("%d sessions after the change, want 1 (the one change-password made)", n)
	}
	if r, err := newClient(a).signIn(email, oldPassword); err != nil || r.Status != http.StatusUnauthorized {
		t.Errorf("old password after the change: %v %v, want 401", r, err)
	}
}

// waitForSleepingBackend waits until a backend of database name sits in
// the trigger's pg_sleep.
func waitForSleepingBackend(t *testing.T, db *bun.DB, name string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if count(t, db, `SELECT count(*) FROM pg_stat_activity WHERE datname = ? AND wait_event = 'PgSleep'`, name) > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the sign-in never reached the slowed session insert")
}

// doUA is client.do with a User-Agent of choice.
func (c *client) doUA(method, path string, body any, ua string) (*reply, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(method, c.origin+path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Origin", c.origin)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", ua)
	start := time.Now()
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	rb, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	return &reply{Status: res.StatusCode, Header: res.Header, Body: rb, Latency: time.Since(start)}, nil
}
