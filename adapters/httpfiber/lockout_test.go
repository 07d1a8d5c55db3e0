package httpfiber

import (
	"strconv"
	"strings"
	"testing"

	"github.com/authd/authd/adapters/httpfiber/internal/cookie"
	"github.com/authd/authd/core"
)

// lockoutHarness trusts the test requests' peer as a proxy, so that
// X-Forwarded-For places each request on a network of the test's choosing.
func lockoutHarness(t *testing.T, perNetwork, perAccount int, opts func(*Options)) *harness {
	return newHarness(t, harnessConfig{
		policy: func(p *core.Policy) {
			p.FailedSignInsPerNetwork, p.FailedSignInsPerAccount = perNetwork, perAccount
		},
		opts: func(o *Options) {
			o.TrustedProxies = []string{"0.0.0.0"} // the peer of app.Test
			if opts != nil {
				opts(o)
			}
		},
	})
}

func (h *harness) signInAs(email, password, ip string, hdr ...string) resp {
	h.t.Helper()
	return h.post("/sign-in/email", `{"email":"`+email+`","password":"`+password+`"}`, append([]string{"X-Forwarded-For", ip}, hdr...)...)
}

// wantLocked checks the per-account throttle's answer: the 429 of the
// per-IP limiter, with X-Retry-After within the hour.
func wantLocked(t *testing.T, r resp, what string) {
	t.Helper()
	if r.status != 429 || r.body != `{"message":"Too many requests. Please try again later."}` {
		t.Fatalf("%s: %d %s, want 429", what, r.status, r.body)
	}
	if s, err := strconv.Atoi(r.header.Get("X-Retry-After")); err != nil || s <= 0 || s > 3600 {
		t.Fatalf("%s: X-Retry-After %q", what, r.header.Get("X-Retry-After"))
	}
}

func deviceCookie(t *testing.T, r resp, name string) string {
	t.Helper()
	c := r.cookie(name)
	if c == "" {
		t.Fatalf("no %s cookie in %v", name, r.cookies)
	}
	nv, _, _ := strings.Cut(c, ";")
	return nv
}

// TestDeviceCookieIssued: each successful sign-in sets a long-lived,
// httpOnly, SameSite=Lax device cookie with a new nonce; on https it has
// the __Secure- prefix and Secure. A failed sign-in sets none.
func TestDeviceCookieIssued(t *testing.T) {
	h := lockoutHarness(t, 100, 1000, nil)
	h.signUp("alice@example.com")
	r := h.signInAs("alice@example.com", testPass, "198.51.100.1")
	c := r.cookie(cookie.KnownDevice)
	if !strings.HasSuffix(c, "; Max-Age=34560000; Path=/; HttpOnly; SameSite=Lax") {
		t.Fatalf("device cookie %q", c)
	}
	if again := deviceCookie(t, h.signInAs("alice@example.com", testPass, "198.51.100.1"), cookie.KnownDevice); again == deviceCookie(t, r, cookie.KnownDevice) {
		t.Fatal("the second sign-in reissued the same device cookie")
	}
	if r := h.signInAs("alice@example.com", "wrong password", "198.51.100.1"); r.status != 401 || len(r.cookies) != 0 {
		t.Fatalf("failed sign-in: %d %v", r.status, r.cookies)
	}

	hs := lockoutHarness(t, 100, 1000, func(o *Options) { o.BaseURL = "https://auth.test/api/auth" })
	hs.post("/sign-up/email", `{"name":"A","email":"a@example.com","password":"`+testPass+`"}`, "Origin", "https://auth.test")
	r = hs.signInAs("a@example.com", testPass, "198.51.100.1", "Origin", "https://auth.test")
	if c := r.cookie("__Secure-" + cookie.KnownDevice); !strings.HasSuffix(c, "; Path=/; HttpOnly; Secure; SameSite=Lax") {
		t.Fatalf("https device cookie %q (all: %v)", c, r.cookies)
	}
}

// TestLockoutByNetworkAndDevice: one network's wrong passwords refuse that
// network only; many networks' lock the account for unknown clients, while
// the owner's browser with its device cookie gets in from anywhere, and a
// forged cookie or another user's does not; a completed reset lifts both.
func TestLockoutByNetworkAndDevice(t *testing.T) {
	h := lockoutHarness(t, 2, 5, nil)
	h.signUp("alice@example.com")
	h.signUp("bob@example.com")
	device := deviceCookie(t, h.signInAs("alice@example.com", testPass, "198.51.100.1"), cookie.KnownDevice)
	bobs := deviceCookie(t, h.signInAs("bob@example.com", testPass, "198.51.100.1"), cookie.KnownDevice)

	for _, ip := range []string{"203.0.113.1", "203.0.113.2"} {
		if r := h.signInAs("alice@example.com", "wrong password", ip); r.status != 401 {
			t.Fatalf("wrong password from %s: %d %s", ip, r.status, r.body)
		}
	}
	wantLocked(t, h.signInAs("alice@example.com", testPass, "203.0.113.200"), "the hammered network")
	if r := h.signInAs("alice@example.com", testPass, "198.51.100.2"); r.status != 200 {
		t.Fatalf("owner on another network: %d %s", r.status, r.body)
	}

	// Two more networks take the account past 5 failures in all.
	for _, ip := range []string{"2001:db8:1::1", "2001:db8:1::2", "192.0.2.77"} {
		if r := h.signInAs("alice@example.com", "wrong password", ip); r.status != 401 {
			t.Fatalf("wrong password from %s: %d %s", ip, r.status, r.body)
		}
	}
	wantLocked(t, h.signInAs("alice@example.com", testPass, "198.51.100.3"), "unknown client on a fresh network")
	forged := device[:len(device)-5] + "AAAA="
	wantLocked(t, h.signInAs("alice@example.com", testPass, "198.51.100.3", "Cookie", forged), "forged device cookie")
	wantLocked(t, h.signInAs("alice@example.com", testPass, "198.51.100.3", "Cookie", bobs), "bob's device cookie")
	for _, ip := range []string{"198.51.100.3", "203.0.113.3"} {
		if r := h.signInAs("alice@example.com", testPass, ip, "Cookie", device); r.status != 200 {
			t.Fatalf("owner's device from %s: %d %s", ip, r.status, r.body)
		}
	}

	h.post("/request-password-reset", `{"email":"alice@example.com","redirectTo":"/reset"}`)
	token := strings.TrimPrefix(h.mailLink("alice@example.com").Path, "/api/auth/reset-password/")
	if r := h.post("/reset-password", `{"newPassword":"a brand new password","token":"`+token+`"}`); r.status != 200 {
		t.Fatalf("reset: %d %s", r.status, r.body)
	}
	for _, ip := range []string{"203.0.113.4", "198.51.100.4"} {
		if r := h.signInAs("alice@example.com", "a brand new password", ip); r.status != 200 {
			t.Fatalf("after the reset, from %s without a device cookie: %d %s", ip, r.status, r.body)
		}
	}
}

// TestSessionPasswordChecksThrottled: wrong passwords given to
// verify-password, change-password and delete-user count against the
// caller's network, and once its budget is used up those routes answer 429
// like sign-in.
func TestSessionPasswordChecksThrottled(t *testing.T) {
	h := lockoutHarness(t, 3, 1000, nil)
	jar := h.signUp("alice@example.com")
	from := func(ip string) []string { return []string{"Cookie", jar, "X-Forwarded-For", ip} }
	wrong := []struct{ path, body string }{
		{"/verify-password", `{"password":"wrong password"}`},
		{"/change-password", `{"currentPassword":"wrong password","newPassword":"another password"}`},
		{"/delete-user", `{"password":"wrong password"}`},
	}
	for _, w := range wrong {
		if r := h.post(w.path, w.body, from("203.0.113.9")...); r.status != 400 {
			t.Fatalf("%s with a wrong password: %d %s", w.path, r.status, r.body)
		}
	}
	for _, w := range wrong {
		wantLocked(t, h.post(w.path, strings.Replace(w.body, "wrong password", testPass, 1), from("203.0.113.10")...), w.path)
	}
	wantLocked(t, h.signInAs("alice@example.com", testPass, "203.0.113.11"), "sign-in")
	wantBody(t, h.post("/verify-password", `{"password":"`+testPass+`"}`, from("198.51.100.9")...), 200, `{"status":true}`)
}
