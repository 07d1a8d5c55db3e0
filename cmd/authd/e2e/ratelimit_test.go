package e2e

import (
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/authd/authd/adapters/bunpg/bunpgtest"
)

// limitRun is what one client sees when it keeps calling one route: how many
// calls passed before the first 429, and that 429's X-Retry-After and body.
type limitRun struct {
	Passed     int
	RetryAfter string
	Body       string
}

// TestRateLimitsMatchBetterAuth drives the real better-auth and authd, each
// with in-memory rate limits, through better-auth's three built-in rules:
// the default (100 per 10 s, or AUTH_RATE_LIMIT_MAX per
// AUTH_RATE_LIMIT_WINDOW), the sensitive routes (3 per 10 s) and the mail
// routes (3 per 60 s). Both must let the same number of calls through and
// refuse the next with the same X-Retry-After and body.
func TestRateLimitsMatchBetterAuth(t *testing.T) {
	installJS(t)
	t.Run("defaults", func(t *testing.T) { rateLimitsMatch(t, 100, 10) })
	t.Run("a configured default rule", func(t *testing.T) {
		rateLimitsMatch(t, 5, 30, "AUTH_RATE_LIMIT_WINDOW=30s", "AUTH_RATE_LIMIT_MAX=5")
	})
}

func rateLimitsMatch(t *testing.T, defaultMax, defaultWindow int, settings ...string) {
	db, _ := bunpgtest.NewMigratedDatabase(t)
	mailDir := t.TempDir()
	settings = append(settings, "AUTH_RATE_LIMIT_ENABLED=true")
	authd := startAuthd(t, db, startMailSink(t, mailDir), append(settings, "AUTH_TRUSTED_PROXIES=127.0.0.1")...)
	ref := startReferenceWith(t, db, mailDir, settings...)

	routes := []struct {
		name, method, path, body string
		passed, wantRetry        int
	}{
		{"default rule", http.MethodGet, "/get-session", "", defaultMax, defaultWindow},
		{"sensitive rule", http.MethodPost, "/sign-in/email", "{}", 3, 10},
		{"mail rule", http.MethodPost, "/request-password-reset", `{"email":"nobody@example.com"}`, 3, 60},
	}
	const tooMany = `{"message":"Too many requests. Please try again later."}`
	for _, r := range routes {
		t.Run(r.name, func(t *testing.T) {
			runs := map[string]limitRun{}
			for name, origin := range map[string]string{"better-auth": ref.Origin, "authd": authd.Origin} {
				runs[name] = untilLimited(t, origin, r.method, "/api/auth"+r.path, r.body, r.passed+1)
			}
			want := limitRun{Passed: r.passed, RetryAfter: strconv.Itoa(r.wantRetry), Body: tooMany}
			for name, got := range runs {
				// A second between the last call let through and the 429
				// takes one off X-Retry-After (it counts from that call).
				if n, _ := strconv.Atoi(got.RetryAfter); n == r.wantRetry-1 {
					got.RetryAfter = want.RetryAfter
				}
				if got != want {
					t.Errorf("%s %s on %s: %+v, want %+v", r.method, r.path, name, got, want)
				}
			}
		})
	}
}

// untilLimited calls a route from a fresh client address at most limit+1
// times and reports when the first 429 came.
func untilLimited(t *testing.T, origin, method, path, body string, calls int) limitRun {
	t.Helper()
	ip := fmt.Sprintf("203.0.%d.%d", mathrand.IntN(250)+1, mathrand.IntN(250)+1)
	for i := range calls {
		status, header, b := callFrom(t, ip, method, origin, path, body)
		if status == http.StatusTooManyRequests {
			return limitRun{Passed: i, RetryAfter: header.Get("X-Retry-After"), Body: b}
		}
	}
	return limitRun{Passed: calls}
}

// callFrom sends one JSON request as the client at ip (X-Forwarded-For,
// which better-auth believes by default and authd from
// AUTH_TRUSTED_PROXIES) from a page of origin.
func callFrom(t *testing.T, ip, method, origin, path, body string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, origin+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", origin)
	req.Header.Set("X-Forwarded-For", ip)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}
