package httpfiber

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/adapters/httpfiber/internal/cookie"
	"github.com/authd/authd/core"
)

func TestUpdateUser(t *testing.T) {
	h := newHarness(t)
	jar := h.signUp("alice@example.com")

	wantError(t, h.post("/update-user", `{"name":"B"}`), 401, "UNAUTHORIZED", "Unauthorized")
	r := h.post("/update-user", `{"name":"Bob","image":"https://img.test/a.png","emailVerified":true,"id":"x","role":"admin"}`, "Cookie", jar)
	wantBody(t, r, 200, `{"status":true}`)
	if len(r.cookies) != 1 || !strings.HasPrefix(r.cookies[0], strings.SplitN(jar, ";", 2)[0]+"; Max-Age=") {
		t.Fatalf("cookie not re-set: %v", r.cookies)
	}
	u := h.get("/get-session", "Cookie", jar).json(t)["user"].(map[string]any)
	if u["name"] != "Bob" || u["image"] != "https://img.test/a.png" || u["emailVerified"] != false {
		t.Fatalf("user after update %v", u)
	}
	wantBody(t, h.post("/update-user", `{"image":null}`, "Cookie", jar), 200, `{"status":true}`)
	if img := h.get("/get-session", "Cookie", jar).json(t)["user"].(map[string]any)["image"]; img != nil {
		t.Fatalf("image %v, want null", img)
	}
	wantBody(t, h.post("/update-user", `{"emailVerified":true}`, "Cookie", jar), 400, `{"message":"No fields to update"}`)
	wantError(t, h.post("/update-user", `{"email":"x@y.co"}`, "Cookie", jar), 400, "EMAIL_CAN_NOT_BE_UPDATED", "Email can not be updated")
	wantError(t, h.post("/update-user", `{"email":1}`, "Cookie", jar), 400, "EMAIL_CAN_NOT_BE_UPDATED", "Email can not be updated")
	wantError(t, h.post("/update-user", `{"name":5}`, "Cookie", jar), 400, "VALIDATION_ERROR", "[body.name] Invalid input: expected string, received number")
}

func TestChangePassword(t *testing.T) {
	h := newHarness(t)
	a := h.signUp("alice@example.com")
	_, b := h.signIn("alice@example.com")

	wantError(t, h.post("/change-password", `{"currentPassword":"wrong-one","newPassword":"new password 1"}`, "Cookie", a),
		400, "INVALID_PASSWORD", "Invalid password")
	wantError(t, h.post("/change-password", `{"currentPassword":"`+testPass+`","newPassword":"short"}`, "Cookie", a),
		400, "PASSWORD_TOO_SHORT", "Password too short")

	r := h.post("/change-password", `{"currentPassword":"`+testPass+`","newPassword":"new password 1"}`, "Cookie", a)
	wantStatus(t, r, 200)
	if m := r.json(t); m["token"] != nil || len(r.cookies) != 0 {
		t.Fatalf("plain change: token %v cookies %v", m["token"], r.cookies)
	}

	r = h.post("/change-password", `{"currentPassword":"new password 1","newPassword":"new password 2","revokeOtherSessions":true}`, "Cookie", a)
	wantStatus(t, r, 200)
	m := r.json(t)
	wantKeys(t, m, "token", "user")
	tok, _ := m["token"].(string)
	if !tokenRe.MatchString(tok) || !strings.HasPrefix(r.cookie("better-auth.session_token"), "better-auth.session_token="+cookie.NewCodec([]byte(testSecret), false).Sign(tok)+"; Max-Age=604800") {
		t.Fatalf("new session %q cookies %v", tok, r.cookies)
	}
	wantBody(t, h.get("/get-session", "Cookie", a), 200, "null")
	wantBody(t, h.get("/get-session", "Cookie", b), 200, "null")
	if h.get("/get-session", "Cookie", r.jar()).body == "null" {
		t.Fatal("new session does not work")
	}
}

func TestChangeEmail(t *testing.T) {
	h := newHarness(t)
	jar := h.signUp("alice@example.com")
	wantError(t, h.post("/change-email", `{"newEmail":"nope"}`, "Cookie", jar), 400, "VALIDATION_ERROR", "[body.newEmail] Invalid email address")
	wantBody(t, h.post("/change-email", `{"newEmail":"alice@example.com"}`, "Cookie", jar), 400, `{"message":"Email is the same"}`)
	wantBody(t, h.post("/change-email", `{"newEmail":"new@example.com","callbackURL":"/settings"}`, "Cookie", jar), 200, `{"status":true}`)

	// An unverified user gets the verification link at the new address;
	// following it with the session re-sets the cookie and changes the email.
	link := h.mailLink("new@example.com")
	r := h.get("/verify-email?"+link.RawQuery, "Cookie", jar)
	if r.status == 302 {
		if r.header.Get("Location") != "/settings" {
			t.Fatalf("location %q", r.header.Get("Location"))
		}
	} else {
		wantStatus(t, r, 200)
	}
	if r.cookie("better-auth.session_token") == "" {
		t.Fatalf("email change did not re-set the cookie: %v", r.cookies)
	}
	u := h.get("/get-session", "Cookie", jar).json(t)["user"].(map[string]any)
	if u["email"] != "new@example.com" {
		t.Fatalf("email %v", u["email"])
	}
}

func TestDeleteUser(t *testing.T) {
	h := newHarness(t)
	jar := h.signUp("alice@example.com")
	wantError(t, h.post("/delete-user", `{"password":"wrong-one"}`, "Cookie", jar), 400, "INVALID_PASSWORD", "Invalid password")
	wantBody(t, h.post("/delete-user", `{"callbackURL":"/bye"}`, "Cookie", jar), 200, `{"success":true,"message":"Verification email sent"}`)
	link := h.mailLink("alice@example.com")
	if link.Path != "/api/auth/delete-user/callback" {
		t.Fatalf("link %s", link)
	}
	wantError(t, h.get("/delete-user/callback?token=nope", "Cookie", jar), 404, "INVALID_TOKEN", "Invalid token")
	wantError(t, h.get("/delete-user/callback?"+link.RawQuery), 404, "FAILED_TO_GET_USER_INFO", "Failed to get user info")
	wantError(t, h.get("/delete-user/callback?token=x&callbackURL=https://evil.test", "Cookie", jar), 403, "INVALID_CALLBACK_URL", "Invalid callbackURL")

	r := h.get("/delete-user/callback?"+link.RawQuery, "Cookie", jar)
	if r.status != 302 || r.header.Get("Location") != "/bye" || r.body != "" || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("callback: %d %q %q", r.status, r.header.Get("Location"), r.body)
	}
	wantCookiesCleared(t, r)
	wantBody(t, h.get("/get-session", "Cookie", jar), 200, "null")
	wantError(t, h.post("/sign-in/email", `{"email":"alice@example.com","password":"`+testPass+`"}`), 401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password")
}

// TestDeleteUser_AtOnce is better-auth without sendDeleteAccountVerification:
// the answer, the expired cookies and the freshness rule (a session signed in
// a day ago needs the password).
func TestDeleteUser_AtOnce(t *testing.T) {
	h := newHarness(t, harnessConfig{policy: func(p *core.Policy) { p.DeleteUserAtOnce = true; p.SessionFreshAge = time.Hour }})
	jar := h.signUp("alice@example.com")
	wantError(t, h.post("/delete-user", `{"password":"wrong-one"}`, "Cookie", jar), 400, "INVALID_PASSWORD", "Invalid password")
	r := h.post("/delete-user", `{"password":"`+testPass+`"}`, "Cookie", jar)
	wantBody(t, r, 200, `{"success":true,"message":"User deleted"}`)
	wantCookiesCleared(t, r)
	wantBody(t, h.get("/get-session", "Cookie", jar), 200, "null")
	wantError(t, h.post("/sign-in/email", `{"email":"alice@example.com","password":"`+testPass+`"}`), 401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password")

	jar = h.signUp("bob@example.com")
	wantBody(t, h.post("/delete-user", `{"password":""}`, "Cookie", jar), 200, `{"success":true,"message":"User deleted"}`)

	jar = h.signUp("carol@example.com")
	h.clock.Advance(time.Hour)
	wantError(t, h.post("/delete-user", `{}`, "Cookie", jar), 400, "SESSION_EXPIRED", "Session expired. Re-authenticate to perform this action.")
	if h.get("/get-session", "Cookie", jar).body == "null" {
		t.Fatal("deleted without a fresh session or the password")
	}
}

func TestDeleteUser_Disabled(t *testing.T) {
	h := newHarness(t, harnessConfig{policy: func(p *core.Policy) { p.DeleteUserEnabled = false }})
	jar := h.signUp("alice@example.com")
	r := h.post("/delete-user", `{}`, "Cookie", jar)
	if r.status != 404 || r.body != "" || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("disabled delete-user: %d %q %q", r.status, r.body, r.header.Get("Content-Type"))
	}
	// The disabled answer comes before the session check: no session, or a
	// stale cookie, gets it too, and the stale cookie is left alone.
	wantError(t, h.get("/delete-user/callback?token=x", "Cookie", jar), 404, "NOT_FOUND", "Not found")
	wantError(t, h.get("/delete-user/callback?token=x"), 404, "NOT_FOUND", "Not found")
	wantStatus(t, h.post("/sign-out", "", "Cookie", jar), 200)
	r = h.get("/delete-user/callback?token=x", "Cookie", jar)
	wantError(t, r, 404, "NOT_FOUND", "Not found")
	if len(r.cookies) != 0 {
		t.Fatalf("cookies touched: %v", r.cookies)
	}
	// Query validation and the callbackURL check still come first.
	wantError(t, h.get("/delete-user/callback"), 400, "VALIDATION_ERROR", "[query.token] Invalid input: expected string, received undefined")
	wantError(t, h.get("/delete-user/callback?token=x&callbackURL=https://evil.test"), 403, "INVALID_CALLBACK_URL", "Invalid callbackURL")
}

// POST /verify-password (sens): validation, then the session, then the check.
func TestVerifyPassword(t *testing.T) {
	h := newHarness(t)
	jar := h.signUp("alice@example.com")
	wantError(t, h.post("/verify-password", `{}`), 400, "VALIDATION_ERROR", "[body.password] Invalid input: expected string, received undefined")
	wantError(t, h.post("/verify-password", `{"password":"`+testPass+`"}`), 401, "UNAUTHORIZED", "Unauthorized")
	wantError(t, h.post("/verify-password", `{"password":1}`, "Cookie", jar), 400, "VALIDATION_ERROR", "[body.password] Invalid input: expected string, received number")
	wantError(t, h.post("/verify-password", `{"password":"wrong password"}`, "Cookie", jar), 400, "INVALID_PASSWORD", "Invalid password")
	wantError(t, h.post("/verify-password", `{"password":""}`, "Cookie", jar), 400, "INVALID_PASSWORD", "Invalid password")
	wantError(t, h.post("/verify-password", `{"password":"`+strings.Repeat("p", 129)+`"}`, "Cookie", jar), 400, "PASSWORD_TOO_LONG", "Password too long")
	r := h.post("/verify-password", `{"password":"`+testPass+`"}`, "Cookie", jar)
	wantBody(t, r, 200, `{"status":true}`)
	if len(r.cookies) != 0 {
		t.Fatalf("cookies set: %v", r.cookies)
	}
}

func TestListAccounts(t *testing.T) {
	h := newHarness(t)
	jar := h.signUp("alice@example.com")
	r := h.get("/list-accounts", "Cookie", jar)
	wantStatus(t, r, 200)
	wantNoStore(t, r)
	if !regexp.MustCompile(`^\[\{"id":"[A-Za-z0-9]{32}","providerId":"credential","accountId":"[A-Za-z0-9]{32}","userId":"[A-Za-z0-9]{32}","createdAt":"[^"]+","updatedAt":"[^"]+","scopes":\[\]\}\]$`).MatchString(r.body) {
		t.Fatalf("accounts %s", r.body)
	}
	if strings.Contains(r.body, "fake$") || strings.Contains(r.body, "password") {
		t.Fatalf("secret leaked: %s", r.body)
	}
	wantError(t, h.get("/list-accounts"), 401, "UNAUTHORIZED", "Unauthorized")
}

// Battery 15: identity comes from the session only. Without one, every
// account route is a 401 whatever ids the body names; with one, ids in the
// body are ignored and only the caller's own account changes.
func TestIdentityOnlyFromTheSession(t *testing.T) {
	h := newHarness(t)
	victimJar := h.signUp("victim@example.com")
	victim := h.userOf(t, victimJar)
	vid := victim["id"].(string)
	ids := `"userId":"` + vid + `","id":"` + vid + `","user":{"id":"` + vid + `"}`

	routes := []struct{ path, body string }{
		{"/update-user", `{"name":"Mallory",` + ids + `}`},
		{"/change-email", `{"newEmail":"mallory@example.com",` + ids + `}`},
		{"/change-password", `{"currentPassword":"` + testPass + `","newPassword":"hijacked password",` + ids + `}`},
		{"/delete-user", `{` + ids + `}`},
		{"/revoke-sessions", `{` + ids + `}`},
		{"/revoke-other-sessions", `{` + ids + `}`},
		{"/revoke-session", `{"token":"` + sessionToken(victimJar) + `",` + ids + `}`},
		{"/verify-password", `{"password":"` + testPass + `",` + ids + `}`},
		{"/update-session", `{` + ids + `}`},
	}
	for _, rt := range routes {
		wantError(t, h.post(rt.path, rt.body), 401, "UNAUTHORIZED", "Unauthorized")
		// A cookie that is not a session is no better than none.
		wantError(t, h.post(rt.path, rt.body, "Cookie", cookie.SessionToken+"="+sessionToken(victimJar)), 401, "UNAUTHORIZED", "Unauthorized")
	}
	wantError(t, h.get("/list-sessions?userId="+vid), 401, "UNAUTHORIZED", "Unauthorized")
	wantError(t, h.get("/list-accounts?userId="+vid), 401, "UNAUTHORIZED", "Unauthorized")

	// Signed in as someone else, the same bodies act on the caller alone.
	attackerJar := h.signUp("attacker@example.com")
	attacker := h.userOf(t, attackerJar)
	r := h.post("/update-user", `{"name":"Bob","emailVerified":true,"role":"admin","createdAt":"2000-01-01T00:00:00.000Z",`+ids+`}`, "Cookie", attackerJar)
	wantBody(t, r, 200, `{"status":true}`)
	a := h.userOf(t, attackerJar)
	if a["name"] != "Bob" || a["id"] != attacker["id"] || a["emailVerified"] != false || a["createdAt"] != attacker["createdAt"] || a["role"] != nil {
		t.Fatalf("attacker after update-user: %v", a)
	}
	wantStatus(t, h.post("/change-password", `{"currentPassword":"`+testPass+`","newPassword":"attacker new pass",`+ids+`}`, "Cookie", attackerJar), 200)
	wantBody(t, h.post("/delete-user", `{`+ids+`}`, "Cookie", attackerJar), 200, `{"success":true,"message":"Verification email sent"}`)
	wantBody(t, h.post("/revoke-other-sessions", `{`+ids+`}`, "Cookie", attackerJar), 200, `{"status":true}`)
	// Naming the victim's session token only works for its owner.
	wantBody(t, h.post("/revoke-session", `{"token":"`+sessionToken(victimJar)+`"}`, "Cookie", attackerJar), 200, `{"status":true}`)

	// The victim is as before: same profile, password and session, no mail.
	if v := h.userOf(t, victimJar); !reflect.DeepEqual(v, victim) {
		t.Fatalf("victim changed: %v, was %v", v, victim)
	}
	h.signIn("victim@example.com")
	for _, m := range h.outbox.Mails() {
		if m.To == "victim@example.com" {
			t.Fatalf("victim was mailed: %+v", m)
		}
	}
}
