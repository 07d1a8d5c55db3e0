package battery

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/cmd/authd/authdtest"
)

// canary is the database error message that must never reach a client.
const canary = "canary-42"

// leakMarkers are fragments of database and Go internals that have no place
// in a response body.
var leakMarkers = []string{canary, "SQLSTATE", "P0001", "INSERT", "session\"", "ERROR:", "pgdriver", "bunpg", "goroutine", ".go:"}

// TestDatabaseErrorHygiene is battery 39 and 43: a database error with a
// distinctive message becomes a generic 500 JSON that leaks nothing, is
// logged with the request id and its cause, leaves the process running,
// and leaves no half-created user behind.
func TestDatabaseErrorHygiene(t *testing.T) {
	pg := sharedCluster(t)
	name := pg.migratedDB(t)
	a := startAuthd(t, authdEnv(pg, name, authdtest.FreeAddr(t)))
	db := pg.open(t, name)
	c := newClient(a)

	// An account that exists before the fault, for the sign-in leg.
	victim, password := "canary-a-"+randomHex(4)+"@battery.test", "canary-password-1"
	c.mustSignUp(t, victim, password)

	execSQL(t, db, `
CREATE FUNCTION battery_canary() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM "user" WHERE id = NEW.user_id AND email LIKE 'canary-%') THEN
		RAISE EXCEPTION 'canary-42';
	END IF;
	RETURN NEW;
END $$`)
	execSQL(t, db, `CREATE TRIGGER battery_canary BEFORE INSERT ON session FOR EACH ROW EXECUTE FUNCTION battery_canary()`)

	r, err := newClient(a).signIn(victim, password)
	if err != nil {
		t.Fatalf("sign-in: %v", err)
	}
	t.Logf("sign-in while session inserts fail: %s", r)
	if r.Status != http.StatusInternalServerError {
		t.Errorf("sign-in: status %d, want 500", r.Status)
	}
	expectClean(t, "sign-in", r)
	expectLogged(t, a, r)

	partial := "canary-b-" + randomHex(4) + "@battery.test"
	r, err = newClient(a).signUp(partial, password)
	if err != nil {
		t.Fatalf("sign-up: %v", err)
	}
	t.Logf("sign-up while session inserts fail: %s", r)
	if r.Status < 400 {
		t.Errorf("sign-up: status %d although its session could not be created", r.Status)
	}
	expectClean(t, "sign-up", r)

	if !a.alive() {
		t.Fatalf("authd exited after the database error: %v", a.exit)
	}
	if h, err := c.get("/api/health"); err != nil || h.Status != http.StatusOK {
		t.Errorf("/api/health after the database error: %v %v", h, err)
	}

	execSQL(t, db, `DROP TRIGGER battery_canary ON session`)
	after := "canary-c-" + randomHex(4) + "@battery.test"
	newClient(a).mustSignUp(t, after, password)

	for _, tc := range []struct {
		email string
		want  int
		why   string
	}{{partial, 0, "left behind by the failed sign-up"}, {after, 1, "after the fault was removed"}} {
		users := count(t, db, `SELECT count(*) FROM "user" WHERE email = ?`, tc.email)
		accounts := count(t, db, `SELECT count(*) FROM account a JOIN "user" u ON u.id = a.user_id WHERE u.email = ?`, tc.email)
		sessions := count(t, db, `SELECT count(*) FROM session s JOIN "user" u ON u.id = s.user_id WHERE u.email = ?`, tc.email)
		if users != tc.want || accounts != tc.want || sessions != tc.want {
			t.Errorf("%s: %d user, %d account, %d session rows %s; want %d of each", tc.email, users, accounts, sessions, tc.why, tc.want)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM "user" u WHERE NOT EXISTS (SELECT 1 FROM account a WHERE a.user_id = u.id AND a.provider_id = 'credential')`); n != 0 {
		t.Errorf("%d users without a credential account (partial sign-ups)", n)
	}
}

// expectClean checks that an error answer is JSON and carries no internals.
func expectClean(t *testing.T, what string, r *reply) {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json", what, ct)
	}
	if !json.Valid(r.Body) {
		t.Errorf("%s: body is not JSON: %q", what, truncate(string(r.Body), 300))
	}
	for _, m := range leakMarkers {
		if strings.Contains(string(r.Body), m) {
			t.Errorf("%s: body leaks %q: %s", what, m, truncate(string(r.Body), 300))
		}
	}
}

// expectLogged checks that stderr has a line with the response's request id
// and the database error's cause. authd writes the line before it answers,
// but the pipe from its stderr is read by another goroutine here, which may
// not have caught up when the response arrives: allow it a moment.
func expectLogged(t *testing.T, a *authd, r *reply) {
	t.Helper()
	id := r.Header.Get("X-Request-Id")
	if id == "" {
		t.Errorf("the 500 carries no X-Request-Id to find it in the log")
		return
	}
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		for _, line := range strings.Split(a.stderr.String(), "\n") {
			if strings.Contains(line, id) && strings.Contains(line, canary) {
				return
			}
		}
		if time.Now().After(deadline) {
			break
		}
	}
	t.Errorf("no stderr line holds both the request id %s and the cause %q", id, canary)
}
