package battery

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/authd/authd/cmd/authd/authdtest"
)

const tooManyBody = `{"message":"Too many requests. Please try again later."}`

// TestRateLimit is battery 26, 27 and 29 against the real binary:
// better-auth's 3-per-10-s sign-in rule, its 429 shape, path spellings that
// must not buy a fresh budget, and one budget shared by two instances
// through the database.
func TestRateLimit(t *testing.T) {
	pg := sharedCluster(t)

	t.Run("memory", func(t *testing.T) {
		db := pg.migratedDB(t)
		a := startAuthd(t, authdEnv(pg, db, authdtest.FreeAddr(t)).with("AUTH_RATE_LIMIT_ENABLED", "true"))

		t.Run("fourth sign-in", func(t *testing.T) {
			c := newClient(a, fromIP("127.0.0.1"))
			for i := 1; i <= 3; i++ {
				r, err := c.signIn("nobody@battery.test", "wrong-password-1")
				if err != nil {
					t.Fatal(err)
				}
				if r.Status != http.StatusUnauthorized {
					t.Fatalf("sign-in %d: %s, want 401", i, r)
				}
			}
			r, err := c.signIn("nobody@battery.test", "wrong-password-1")
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("4th sign-in: %s, X-Retry-After %q", r, r.Header.Get("X-Retry-After"))
			expectLimited(t, r)
		})

		// better-auth CVE-2025-71399: "//" spellings reached the route with
		// a key of their own. Here every spelling must draw on one budget.
		t.Run("path variants", func(t *testing.T) {
			c := newClient(a, fromIP("127.0.0.2"))
			body := map[string]any{"email": "nobody@battery.test", "password": "wrong-password-1"}
			for _, p := range []string{"/api/auth//sign-in/email", "//api/auth/sign-in/email", "/api/auth/sign-in/email?variant=1"} {
				r, err := c.post(p, body)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("POST %s: %s", p, r)
			}
			r, err := c.signIn("nobody@battery.test", "wrong-password-1")
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != http.StatusTooManyRequests {
				t.Errorf("sign-in after 3 variant spellings: %s, want 429 (the variants must count against /sign-in/email)", r)
			}
			for _, p := range []string{"/api/auth//sign-in/email", "//api/auth/sign-in/email", "/api/auth/sign-in/email/", "/api/auth/./sign-in/email", "/api/auth/sign-in/email?x=2"} {
				r, err := c.post(p, body)
				if err != nil {
					t.Fatal(err)
				}
				if r.Status != http.StatusTooManyRequests && r.Status != http.StatusNotFound {
					t.Errorf("POST %s with the budget spent: %s, want 429 (or 404)", p, r)
				}
			}
		})
	})

	t.Run("database shared by two instances", func(t *testing.T) {
		db := pg.migratedDB(t)
		var clients []*client
		for range 2 {
			a := startAuthd(t, authdEnv(pg, db, authdtest.FreeAddr(t)).with("AUTH_RATE_LIMIT_ENABLED", "true", "AUTH_RATE_LIMIT_STORAGE", "database"))
			clients = append(clients, newClient(a, fromIP("127.0.0.3")))
		}
		res := together(50, func(i int) outcome {
			r, err := clients[i%2].signIn("nobody@battery.test", "wrong-password-1")
			return outcome{r, err}
		})
		statuses := map[int]int{}
		problems := map[string]int{}
		passed := 0
		for i, o := range res {
			if o.err != nil {
				t.Errorf("sign-in %d: %v", i, o.err)
				continue
			}
			statuses[o.r.Status]++
			switch o.r.Status {
			case http.StatusTooManyRequests:
				for _, p := range limitProblems(o.r) {
					problems[p]++
				}
			case http.StatusUnauthorized:
				passed++
			default:
				t.Errorf("sign-in %d: %s, want 401 or 429", i, o)
			}
		}
		t.Logf("50 concurrent sign-ins over 2 instances sharing the database limiter: %s", histogram(statuses))
		for p, n := range problems {
			t.Errorf("%d of the 429s: %s", n, p)
		}
		if passed != 3 {
			t.Errorf("%d sign-ins got through, want exactly 3", passed)
		}
	})
}

func expectLimited(t *testing.T, r *reply) {
	t.Helper()
	for _, p := range limitProblems(r) {
		t.Error(p)
	}
}

// limitProblems lists how r differs from better-auth's 429.
func limitProblems(r *reply) []string {
	if r.Status != http.StatusTooManyRequests {
		return []string{fmt.Sprintf("status %d, want 429 (%s)", r.Status, r)}
	}
	var out []string
	if string(r.Body) != tooManyBody {
		out = append(out, fmt.Sprintf("429 body %q, want %q", r.Body, tooManyBody))
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		out = append(out, fmt.Sprintf("429 Content-Type %q, want application/json", ct))
	}
	secs, err := strconv.Atoi(r.Header.Get("X-Retry-After"))
	if err != nil || secs < 1 || secs > 10 {
		out = append(out, fmt.Sprintf("429 X-Retry-After %q, want an integer in 1..10 (the rule's window is 10 s)", r.Header.Get("X-Retry-After")))
	}
	return out
}
