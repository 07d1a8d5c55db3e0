package battery

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/authd/authd/adapters/mail/smtptest"
	"github.com/authd/authd/cmd/authd/authdtest"
	"github.com/authd/authd/migrations"
)

// together runs n calls of fn at once, released by one barrier, and returns
// their results in call order.
func together[T any](n int, fn func(i int) T) []T {
	out := make([]T, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			out[i] = fn(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return out
}

type outcome struct {
	r   *reply
	err error
}

func (o outcome) String() string {
	if o.err != nil {
		return o.err.Error()
	}
	return o.r.String()
}

// TestConcurrentSignUpSameEmail is battery 31: 50 simultaneous sign-ups of
// one address (case variants included) create exactly one user with one
// credential account; the others get better-auth's 422, never a 500.
func TestConcurrentSignUpSameEmail(t *testing.T) {
	pg := sharedCluster(t)
	name := pg.migratedDB(t)
	a := startAuthd(t, authdEnv(pg, name, authdtest.FreeAddr(t)))
	db := pg.open(t, name)

	email := uniqueEmail("dup")
	c := newClient(a)
	res := together(50, func(i int) outcome {
		addr := email
		if i%5 == 4 {
			addr = strings.ToUpper(email)
		}
		r, err := c.signUp(addr, fmt.Sprintf("dup-password-%02d", i))
		return outcome{r, err}
	})

	statuses := map[int]int{}
	var ok int
	for i, o := range res {
		if o.err != nil {
			t.Errorf("sign-up %d: %v", i, o.err)
			continue
		}
		statuses[o.r.Status]++
		switch {
		case o.r.Status == http.StatusOK:
			ok++
		case o.r.Status == http.StatusUnprocessableEntity && o.r.code() == "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL":
		default:
			t.Errorf("sign-up %d: %s, want 200 or 422 USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", i, o)
		}
	}
	t.Logf("50 concurrent sign-ups of one email: %s", histogram(statuses))
	if ok != 1 {
		t.Errorf("%d sign-ups succeeded, want exactly 1", ok)
	}
	if n := count(t, db, `SELECT count(*) FROM "user" WHERE lower(email) = lower(?)`, email); n != 1 {
		t.Errorf("%d user rows for %s, want 1", n, email)
	}
	if n := count(t, db, `SELECT count(*) FROM account a JOIN "user" u ON u.id = a.user_id WHERE lower(u.email) = lower(?)`, email); n != 1 {
		t.Errorf("%d account rows for %s, want 1", n, email)
	}
	if n := count(t, db, `SELECT count(*) FROM account WHERE user_id NOT IN (SELECT id FROM "user")`); n != 0 {
		t.Errorf("%d orphaned account rows", n)
	}
}

// TestConcurrentPasswordReset is battery 17: one reset token submitted by 16
// goroutines at once is consumed exactly once, and only the winner's new
// password works afterwards.
func TestConcurrentPasswordReset(t *testing.T) {
	pg := sharedCluster(t)
	name := pg.migratedDB(t)
	sink := smtptest.NewServer(t)
	a := startAuthd(t, authdEnv(pg, name, authdtest.FreeAddr(t)).with("SMTP_HOST", sink.Host(), "SMTP_PORT", fmt.Sprint(sink.Port())))

	email, oldPassword := uniqueEmail("reset"), "reset-old-password"
	c := newClient(a)
	sessionToken := bodyToken(t, c.mustSignUp(t, email, oldPassword))
	if r, err := c.post("/api/auth/request-password-reset", map[string]any{"email": email}); err != nil || r.Status != http.StatusOK {
		t.Fatalf("request-password-reset: %v %v", r, err)
	}
	token := resetToken(t, sink, email)

	const n = 16
	passwords := make([]string, n)
	for i := range passwords {
		passwords[i] = fmt.Sprintf("reset-new-password-%02d", i)
	}
	res := together(n, func(i int) outcome {
		r, err := c.post("/api/auth/reset-password", map[string]any{"newPassword": passwords[i], "token": token})
		return outcome{r, err}
	})
	winner := -1
	statuses := map[int]int{}
	for i, o := range res {
		if o.err != nil {
			t.Errorf("reset %d: %v", i, o.err)
			continue
		}
		statuses[o.r.Status]++
		switch {
		case o.r.Status == http.StatusOK && string(o.r.Body) == `{"status":true}`:
			if winner >= 0 {
				t.Errorf("resets %d and %d both succeeded", winner, i)
			}
			winner = i
		case o.r.Status == http.StatusBadRequest && o.r.code() == "INVALID_TOKEN":
		default:
			t.Errorf("reset %d: %s, want 200 {\"status\":true} or 400 INVALID_TOKEN", i, o)
		}
	}
	t.Logf("16 concurrent resets with one token: %s", histogram(statuses))
	if winner < 0 {
		t.Fatalf("no reset succeeded")
	}

	// Secrets never reach the log (battery 9): neither the session token nor
	// the reset token, which went out by mail only.
	log := a.stderr.String()
	if strings.Contains(log, sessionToken) {
		t.Errorf("authd's log contains a session token")
	}
	if strings.Contains(log, token) {
		t.Errorf("authd's log contains the reset token")
	}

	signer := newClient(a)
	for i, pw := range append(passwords, oldPassword) {
		r, err := signer.signIn(email, pw)
		if err != nil {
			t.Fatalf("sign-in: %v", err)
		}
		want := http.StatusUnauthorized
		if i == winner {
			want = http.StatusOK
		}
		if r.Status != want {
			t.Errorf("sign-in with password %d (winner %d): %s, want %d", i, winner, r, want)
		}
	}
}

// resetToken takes the reset link from the next mail to email.
func resetToken(t *testing.T, sink *smtptest.Server, email string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := sink.WaitFor(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	for _, link := range m.Links() {
		u, err := url.Parse(link)
		if err != nil {
			continue
		}
		if _, tok, ok := strings.Cut(u.Path, "/reset-password/"); ok && tok != "" {
			return tok
		}
	}
	t.Fatalf("no reset link in the mail to %s:\n%s", email, m.Text)
	return ""
}

// TestConcurrentMigrate is battery 44 (without the kill): five `authd
// migrate up` at once on an empty database all succeed, record each
// migration once, and leave the same schema as one migrator does.
func TestConcurrentMigrate(t *testing.T) {
	pg := sharedCluster(t)
	name := pg.createDB(t)
	e := authdEnv(pg, name, authdtest.FreeAddr(t))
	res := together(5, func(int) runResult { return runAuthd(t, e, 2*time.Minute, "migrate", "up") })
	for i, r := range res {
		if r.code != 0 {
			t.Errorf("migrator %d: exit %d after %s\n%s", i, r.code, r.elapsed.Round(time.Millisecond), tail(r.stderr, 20))
		}
	}
	db := pg.open(t, name)

	var names []string
	if err := db.NewRaw(`SELECT name FROM bun_migrations ORDER BY name`).Scan(context.Background(), &names); err != nil {
		t.Fatalf("read bun_migrations: %v", err)
	}
	var want []string
	for _, m := range migrations.Migrations.Sorted() {
		want = append(want, m.Name)
	}
	t.Logf("5 concurrent migrators: bun_migrations = %v", names)
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("bun_migrations rows %v, want each of %v exactly once", names, want)
	}

	ref := pg.migratedDB(t)
	got, wantSchema := schemaOf(t, db), schemaOf(t, pg.open(t, ref))
	if len(wantSchema) < 5 {
		t.Fatalf("reference schema looks empty: %v", wantSchema)
	}
	if strings.Join(got, "\n") != strings.Join(wantSchema, "\n") {
		t.Errorf("schema after concurrent migrators differs from a single migrator's:\ngot:\n%s\nwant:\n%s",
			strings.Join(got, "\n"), strings.Join(wantSchema, "\n"))
	}
}

// schemaOf lists the public schema's columns, constraints and indexes.
func schemaOf(t *testing.T, db *bun.DB) []string {
	t.Helper()
	var rows []string
	q := `
SELECT format('column %s.%s %s null=%s default=%s', table_name, column_name, data_type, is_nullable, coalesce(column_default, ''))
  FROM information_schema.columns WHERE table_schema = 'public'
UNION ALL
SELECT format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
  FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT format('index %s', indexdef) FROM pg_indexes WHERE schemaname = 'public'
ORDER BY 1`
	if err := db.NewRaw(q).Scan(context.Background(), &rows); err != nil {
		t.Fatalf("read schema: %v", err)
	}
	return rows
}
