package battery

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/authd/authd/adapters/mail/smtptest"
	"github.com/authd/authd/cmd/authd/authdtest"
)

// forwardedFor places a battery client behind the trusted proxy 127.0.0.1:
// every request carries X-Forwarded-For: ip, so that one process on loopback
// can play clients on many networks.
type forwardedFor struct {
	base http.RoundTripper
	ip   string
}

func (f *forwardedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.ip)
	return f.base.RoundTrip(r)
}

func behindProxy(c *client, ip string) *forwardedFor {
	f := &forwardedFor{base: c.hc.Transport, ip: ip}
	c.hc.Transport = f
	return f
}

// lockoutStep signs in as email from ip (on c, which keeps its cookies) and
// checks the status; 429s must be the throttle's answer.
func lockoutStep(t *testing.T, c *client, via *forwardedFor, ip, email, password string, want int, what string) {
	t.Helper()
	via.ip = ip
	r, err := c.signIn(email, password)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if r.Status != want {
		t.Fatalf("%s (from %s): %s, want %d", what, ip, r, want)
	}
	if want == http.StatusTooManyRequests {
		secs, err := strconv.Atoi(r.Header.Get("X-Retry-After"))
		if string(r.Body) != tooManyBody || err != nil || secs < 1 || secs > 3600 {
			t.Fatalf("%s: 429 %q with X-Retry-After %q, want %s and 1..3600 s", what, r.Body, r.Header.Get("X-Retry-After"), tooManyBody)
		}
	}
}

// TestSignInLockout is issue 9's defect 3 against the real binary, on both
// limiter stores: one network guessing an account's password is refused for
// that account while the owner signs in from elsewhere; many networks past
// the account's budget lock out every client the account does not know,
// while the owner's browser, holding the device cookie of an earlier sign-in,
// gets in even from a hammered network; a completed reset lifts both.
func TestSignInLockout(t *testing.T) {
	const perNetwork, perAccount = 5, 12
	pg := sharedCluster(t)
	for _, storage := range []string{"memory", "database"} {
		t.Run(storage, func(t *testing.T) {
			sink := smtptest.NewServer(t)
			a := startAuthd(t, authdEnv(pg, pg.migratedDB(t), authdtest.FreeAddr(t)).with(
				"AUTH_RATE_LIMIT_STORAGE", storage, "AUTH_TRUSTED_PROXIES", "127.0.0.1",
				"AUTH_SIGNIN_FAILURES_PER_NETWORK", strconv.Itoa(perNetwork),
				"AUTH_SIGNIN_FAILURES_PER_ACCOUNT", strconv.Itoa(perAccount),
				"SMTP_HOST", sink.Host(), "SMTP_PORT", fmt.Sprint(sink.Port())))
			email, password := uniqueEmail("lockout"), "the-owners-password"

			owner := newClient(a)
			ownerVia := behindProxy(owner, "198.51.100.10")
			owner.mustSignUp(t, email, password)
			lockoutStep(t, owner, ownerVia, "198.51.100.10", email, password, 200, "owner's first sign-in")
			u, _ := url.Parse(a.Origin)
			hasDevice := false
			for _, c := range owner.hc.Jar.Cookies(u) {
				hasDevice = hasDevice || c.Name == "authd.known_device"
			}
			if !hasDevice {
				t.Fatal("the owner's sign-in set no device cookie")
			}

			// Every client other than the owner's browser comes without
			// cookies: a fresh client per request.
			stranger := func(ip, pw string, want int, what string) {
				t.Helper()
				c := newClient(a)
				lockoutStep(t, c, behindProxy(c, ip), ip, email, pw, want, what)
			}
			statuses := map[string]int{}
			guess := func(ip string, i int) {
				t.Helper()
				stranger(ip, fmt.Sprintf("guess-%d", i), 401, "a wrong password")
				statuses["401 guesses"]++
			}

			// One network (203.0.113.0/24) spends its budget from several of
			// its addresses, and is refused; the owner elsewhere is not.
			for i := range perNetwork {
				guess(fmt.Sprintf("203.0.113.%d", i+1), i)
			}
			stranger("203.0.113.77", password, 429, "the right password from the hammered network")
			stranger("203.0.113.78", "guess-x", 429, "another guess from the hammered network")
			stranger("198.51.100.20", password, 200, "the owner, without a device cookie, from another network")
			t.Logf("one network: %d wrong passwords from 203.0.113.1-%d answered 401; then 429 for that network, 200 for the owner on 198.51.100.20", perNetwork, perNetwork)

			// Many networks, each under its own budget, take the account
			// past perAccount in all.
			networks := 0
			for i := perNetwork; i < perAccount; i++ {
				ip := fmt.Sprintf("10.%d.0.1", i)
				if i%2 == 1 {
					ip = fmt.Sprintf("2001:db8:%x::1", i)
				}
				guess(ip, i)
				networks++
			}
			stranger("192.0.2.50", password, 429, "an unknown client on a fresh network, past the account's budget")
			stranger("2001:db8:ffff::1", password, 429, "an unknown IPv6 client, past the account's budget")
			lockoutStep(t, owner, ownerVia, "192.0.2.51", email, password, 200, "the owner's browser with its device cookie")
			lockoutStep(t, owner, ownerVia, "203.0.113.79", email, password, 200, "the owner's browser on the hammered network")
			t.Logf("many networks: %d more wrong passwords from %d networks (401 each), %d in all; then 429 for unknown clients on fresh IPv4 and IPv6 networks, 200 for the owner's browser (device cookie) on a fresh and on the hammered network",
				networks, networks, statuses["401 guesses"])

			// A completed reset lifts both.
			if r, err := owner.post("/api/auth/request-password-reset", map[string]any{"email": email}); err != nil || r.Status != http.StatusOK {
				t.Fatalf("request-password-reset: %v %v", r, err)
			}
			resetter := newClient(a)
			behindProxy(resetter, "198.51.100.30")
			newPassword := "the-owners-new-password"
			if r, err := resetter.post("/api/auth/reset-password", map[string]any{"newPassword": newPassword, "token": resetToken(t, sink, email)}); err != nil || r.Status != http.StatusOK {
				t.Fatalf("reset-password: %v %v", r, err)
			}
			stranger("203.0.113.80", newPassword, 200, "after the reset, a client on the network that was refused")
			stranger("192.0.2.52", newPassword, 200, "after the reset, an unknown client elsewhere")
			t.Logf("after a completed reset: 200 for clients without a device cookie on the hammered network and on a fresh one")
		})
	}
}
