package httpfiber

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"hash"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/adapters/emailtoken"
	"github.com/authd/authd/core"
)

// Tests for items of the security battery (shared/spec/security-reliability.md
// §4) that the rest of this package covers only in part; each names its item.

// sessionToken is the bare session token inside a jar from signUp/signIn.
func sessionToken(jar string) string {
	return strings.SplitN(strings.TrimPrefix(jar, cookieSessionToken+"="), ".", 2)[0]
}

func (h *harness) userOf(t *testing.T, jar string) map[string]any {
	t.Helper()
	r := h.get("/get-session", "Cookie", jar)
	if r.body == "null" {
		t.Fatalf("no session for %q", jar)
	}
	return r.json(t)["user"].(map[string]any)
}

// storedUser reads a user straight from the store, bypassing every route.
func (h *harness) storedUser(t *testing.T, email string) core.User {
	t.Helper()
	u, err := h.store.Users().ByEmail(t.Context(), email)
	if err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	return u
}

// addUserWithoutPassword stores a user whose only account has provider and
// password (nil for none): a social-only user, or a credential row without
// a password.
func (h *harness) addUserWithoutPassword(t *testing.T, id, email, provider string) {
	t.Helper()
	u, err := core.NewUser(id, "Social", email, nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.Users().Create(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	accountID := "gh-" + id
	if provider == core.ProviderCredential {
		accountID = id
	}
	acc := core.RehydrateAccount(core.AccountRecord{ID: "acc-" + id, UserID: id, AccountID: accountID,
		ProviderID: provider, CreatedAt: t0, UpdatedAt: t0})
	if err := h.store.Accounts().Create(t.Context(), acc); err != nil {
		t.Fatal(err)
	}
}

// headersExcept returns r's headers without the per-request ones, for
// comparing two answers.
func headersExcept(r resp, drop ...string) http.Header {
	out := r.header.Clone()
	for _, d := range append([]string{"X-Request-Id", "Date"}, drop...) {
		out.Del(d)
	}
	return out
}

// Battery 6: an unknown email, a wrong password, a social-only user and a
// credential row without a password get byte-identical answers with the
// same headers and no cookie. (Their timing is measured against the real
// binary in cmd/authd/battery.)
func TestBattery6_SignInFailuresAreIndistinguishable(t *testing.T) {
	h := newHarness(t)
	h.signUp("known@example.com")
	h.addUserWithoutPassword(t, strings.Repeat("s", 32), "social@example.com", "github")
	h.addUserWithoutPassword(t, strings.Repeat("n", 32), "nullpw@example.com", core.ProviderCredential)

	var first resp
	for i, email := range []string{"ghost@example.com", "known@example.com", "social@example.com", "nullpw@example.com"} {
		for _, extra := range []string{"", `,"rememberMe":false,"callbackURL":"/home"`} {
			r := h.post("/sign-in/email", `{"email":"`+email+`","password":"wrong password"`+extra+`}`)
			wantError(t, r, 401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password")
			if len(r.cookies) != 0 || r.header.Get("Location") != "" {
				t.Fatalf("%s: cookies %v location %q", email, r.cookies, r.header.Get("Location"))
			}
			if i == 0 && extra == "" {
				first = r
				continue
			}
			if got, want := headersExcept(r), headersExcept(first); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s%s: headers %v, want %v as for an unknown email", email, extra, got, want)
			}
		}
	}
}

// jsonShape renders a JSON document's keys in order with the kinds of
// their values, so that two answers can be compared without their values.
func jsonShape(t *testing.T, body string) string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	var sb strings.Builder
	// inObject[i] tells whether container i is an object; wantKey whether
	// the innermost object expects a key next.
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
			switch v {
			case '{', '[':
				inObject = append(inObject, v == '{')
				wantKey = v == '{'
			default:
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

// Battery 8: under enumeration protection a sign-up for a taken address
// answers like a fresh one: 200, the same keys in the same order with the
// same types, the same headers and no cookie; the stored owner is untouched.
func TestBattery8_DuplicateSignUpLooksFresh(t *testing.T) {
	h := newHarness(t, harnessConfig{policy: func(p *core.Policy) { p.RequireEmailVerification = true }})
	wantStatus(t, h.post("/sign-up/email", `{"name":"Owner","email":"taken@example.com","password":"`+testPass+`"}`), 200)
	owner := h.storedUser(t, "taken@example.com")

	// Same-length addresses, so that even Content-Length must agree.
	const body = `{"name":"Mallory","email":"%s","password":"another password","image":"https://img.test/m.png"}`
	fresh := h.post("/sign-up/email", strings.Replace(body, "%s", "fresh@example.com", 1))
	dup := h.post("/sign-up/email", strings.Replace(body, "%s", "Taken@example.com", 1))
	for _, r := range []resp{fresh, dup} {
		wantStatus(t, r, 200)
		if len(r.cookies) != 0 {
			t.Fatalf("cookies %v", r.cookies)
		}
	}
	if a, b := jsonShape(t, fresh.body), jsonShape(t, dup.body); a != b {
		t.Fatalf("shapes differ:\nfresh %s\ndup   %s", a, b)
	}
	if a, b := headersExcept(fresh), headersExcept(dup); !reflect.DeepEqual(a, b) {
		t.Fatalf("headers differ:\nfresh %v\ndup   %v", a, b)
	}
	u := dup.json(t)["user"].(map[string]any)
	if u["id"] == owner.ID() || !tokenRe.MatchString(u["id"].(string)) || u["name"] != "Mallory" || u["email"] != "taken@example.com" ||
		u["emailVerified"] != false || dup.json(t)["token"] != nil {
		t.Fatalf("synthetic answer %s", dup.body)
	}
	if got := h.storedUser(t, "taken@example.com"); got.ID() != owner.ID() || got.Name() != "Owner" || got.Image() != nil {
		t.Fatalf("owner changed: %+v", got.Record())
	}
}

// Battery 15: identity comes from the session only. Without one, every
// account route is a 401 whatever ids the body names; with one, ids in the
// body are ignored and only the caller's own account changes.
func TestBattery15_IdentityOnlyFromTheSession(t *testing.T) {
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
		wantError(t, h.post(rt.path, rt.body, "Cookie", cookieSessionToken+"="+sessionToken(victimJar)), 401, "UNAUTHORIZED", "Unauthorized")
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

// Battery 16: a reset token changes the password of the user it was minted
// for, whatever the body or the caller's cookie say, and signs no one in.
func TestBattery16_ResetTokenIsBoundToItsUser(t *testing.T) {
	h := newHarness(t)
	h.signUp("a@example.com")
	bJar := h.signUp("b@example.com")
	bID := h.userOf(t, bJar)["id"].(string)
	wantStatus(t, h.post("/request-password-reset", `{"email":"a@example.com","redirectTo":"/reset"}`), 200)
	token := strings.TrimPrefix(h.mailLink("a@example.com").Path, "/api/auth/reset-password/")

	r := h.post("/reset-password", `{"newPassword":"a brand new pass","token":"`+token+`","email":"b@example.com","userId":"`+bID+`"}`,
		"Cookie", bJar)
	wantBody(t, r, 200, `{"status":true}`)
	if len(r.cookies) != 0 {
		t.Fatalf("reset set cookies (automatic sign-in): %v", r.cookies)
	}
	wantStatus(t, h.post("/sign-in/email", `{"email":"a@example.com","password":"a brand new pass"}`), 200)
	wantStatus(t, h.post("/sign-in/email", `{"email":"b@example.com","password":"a brand new pass"}`), 401)
	h.signIn("b@example.com")
	h.userOf(t, bJar)
}

// forgeJWT assembles header.payload.signature with the given HMAC.
func forgeJWT(newHash func() hash.Hash, key, header, payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	si := enc([]byte(header)) + "." + enc([]byte(payload))
	m := hmac.New(newHash, []byte(key))
	m.Write([]byte(si))
	return si + "." + enc(m.Sum(nil))
}

// Battery 18: forged or expired verification tokens at GET /verify-email
// are a 401 (or a redirect carrying the error) and verify no one; only HS256
// under the server's key is accepted.
func TestBattery18_ForgedVerificationTokens(t *testing.T) {
	h := newHarness(t)
	aliceJar := h.signUp("alice@example.com")
	h.signUp("bob@example.com")
	wantStatus(t, h.post("/send-verification-email", `{"email":"alice@example.com"}`, "Cookie", aliceJar), 200)
	genuine := h.mailLink("alice@example.com").Query().Get("token")
	parts := strings.Split(genuine, ".")
	if len(parts) != 3 {
		t.Fatalf("mailed token %q is not a JWT", genuine)
	}
	rawPayload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	payload := string(rawPayload)
	bobPayload := strings.Replace(payload, "alice@example.com", "bob@example.com", 1)
	if bobPayload == payload {
		t.Fatalf("payload %s does not name alice", payload)
	}
	longer := regexp.MustCompile(`"exp":\d+`).ReplaceAllString(payload, `"exp":4102444800`)
	enc := base64.RawURLEncoding.EncodeToString

	signer, err := emailtoken.NewJWTSigner([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	expired, err := signer.Sign(core.EmailClaims{Email: "bob@example.com"}, h.clock.Now().Add(-2*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	forgeries := map[string]struct{ token, code string }{
		"alg none":            {enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(bobPayload)) + ".", "INVALID_TOKEN"},
		"alg none unsigned":   {enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc([]byte(bobPayload)), "INVALID_TOKEN"},
		"wrong key":           {forgeJWT(sha256.New, "another-secret-another-secret-another", `{"alg":"HS256"}`, bobPayload), "INVALID_TOKEN"},
		"HS512 with our key":  {forgeJWT(sha512.New, testSecret, `{"alg":"HS512"}`, bobPayload), "INVALID_TOKEN"},
		"edited payload":      {parts[0] + "." + enc([]byte(bobPayload)) + "." + parts[2], "INVALID_TOKEN"},
		"extended expiry":     {parts[0] + "." + enc([]byte(longer)) + "." + parts[2], "INVALID_TOKEN"},
		"signature truncated": {parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-2], "INVALID_TOKEN"},
		"expired":             {expired, "TOKEN_EXPIRED"},
	}
	for name, f := range forgeries {
		r := h.get("/verify-email?token=" + url.QueryEscape(f.token))
		if r.status != 401 || !strings.Contains(r.body, `"code":"`+f.code+`"`) || len(r.cookies) != 0 {
			t.Errorf("%s: %d %s %v, want 401 %s", name, r.status, r.body, r.cookies, f.code)
		}
		r = h.get("/verify-email?token=" + url.QueryEscape(f.token) + "&callbackURL=%2Fdone")
		if r.status != 302 || r.header.Get("Location") != "/done?error="+f.code {
			t.Errorf("%s with callbackURL: %d location %q", name, r.status, r.header.Get("Location"))
		}
	}
	for _, email := range []string{"alice@example.com", "bob@example.com"} {
		if h.storedUser(t, email).EmailVerified() {
			t.Fatalf("%s verified by a forged token", email)
		}
	}
	// The genuine token still works, for alice only.
	wantBody(t, h.get("/verify-email?token="+genuine), 200, `{"status":true,"user":null}`)
	if !h.storedUser(t, "alice@example.com").EmailVerified() || h.storedUser(t, "bob@example.com").EmailVerified() {
		t.Fatal("the genuine token did not verify exactly alice")
	}
}

// Battery 19: each kind of token is worthless at every other purpose over
// HTTP. The verification JWT and the session cookie are both HMACs under the
// one app secret (better-auth's scheme, kept for compatibility), so a JWT
// reshaped into a cookie even carries a valid signature: it must still name
// no session.
func TestBattery19_TokensServeOnlyTheirPurpose(t *testing.T) {
	h := newHarness(t)
	jar := h.signUp("alice@example.com")
	session := sessionToken(jar)
	wantStatus(t, h.post("/request-password-reset", `{"email":"alice@example.com","redirectTo":"/reset"}`), 200)
	reset := strings.TrimPrefix(h.mailLink("alice@example.com").Path, "/api/auth/reset-password/")
	wantStatus(t, h.post("/send-verification-email", `{"email":"alice@example.com"}`, "Cookie", jar), 200)
	verify := h.mailLink("alice@example.com").Query().Get("token")
	wantStatus(t, h.post("/delete-user", `{}`, "Cookie", jar), 200)
	del := h.mailLink("alice@example.com").Query().Get("token")

	for name, tok := range map[string]string{"reset": reset, "delete": del, "session": session} {
		r := h.get("/verify-email?token=" + url.QueryEscape(tok))
		if r.status != 401 || !strings.Contains(r.body, `"code":"INVALID_TOKEN"`) {
			t.Errorf("%s token at verify-email: %d %s", name, r.status, r.body)
		}
	}
	for name, tok := range map[string]string{"verify": verify, "delete": del, "session": session} {
		wantError(t, h.post("/reset-password", `{"newPassword":"hijacked password","token":"`+tok+`"}`), 400, "INVALID_TOKEN", "Invalid token")
		r := h.get("/reset-password/" + url.PathEscape(tok) + "?callbackURL=%2Freset")
		if r.status != 302 || !strings.HasSuffix(r.header.Get("Location"), "error=INVALID_TOKEN") {
			t.Errorf("%s token at the reset link: %d %q", name, r.status, r.header.Get("Location"))
		}
	}
	for name, tok := range map[string]string{"reset": reset, "verify": verify, "session": session} {
		r := h.get("/delete-user/callback?token="+url.QueryEscape(tok), "Cookie", jar)
		if r.status != 404 || !strings.Contains(r.body, `"code":"INVALID_TOKEN"`) {
			t.Errorf("%s token at the delete callback: %d %s", name, r.status, r.body)
		}
	}

	// The verification JWT as a session cookie: header.payload signed by the
	// JWT's own HMAC, re-encoded as the cookie's padded standard base64.
	parts := strings.Split(verify, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	forged := parts[0] + "." + parts[1] + "." + base64.StdEncoding.EncodeToString(sig)
	r := h.get("/get-session", "Cookie", cookieSessionToken+"="+url.QueryEscape(forged))
	wantBody(t, r, 200, "null")
	wantError(t, h.post("/update-user", `{"name":"Mallory"}`, "Cookie", cookieSessionToken+"="+url.QueryEscape(forged)), 401, "UNAUTHORIZED", "Unauthorized")

	// Every token still serves its own purpose: they were live all along.
	if h.storedUser(t, "alice@example.com").EmailVerified() || h.userOf(t, jar)["name"] != "Alice" {
		t.Fatal("a misused token changed the user")
	}
	wantBody(t, h.get("/verify-email?token="+verify), 200, `{"status":true,"user":null}`)
	wantBody(t, h.post("/reset-password", `{"newPassword":"a brand new pass","token":"`+reset+`"}`), 200, `{"status":true}`)
	_, jar = h.signInWith("alice@example.com", "a brand new pass")
	r = h.get("/delete-user/callback?token="+del, "Cookie", jar)
	if r.status != 200 && r.status != 302 {
		t.Fatalf("delete token for its purpose: %d %s", r.status, r.body)
	}
}

func (h *harness) signInWith(email, password string) (resp, string) {
	h.t.Helper()
	r := h.post("/sign-in/email", `{"email":"`+email+`","password":"`+password+`"}`)
	if r.status != 200 {
		h.t.Fatalf("sign-in %s: %d %s", email, r.status, r.body)
	}
	return r, r.jar()
}

// Battery 20: the mailed reset link is built on the configured base URL,
// never on Host or X-Forwarded-* headers; an untrusted redirectTo is a 403
// and sends nothing.
func TestBattery20_ResetLinkIgnoresRequestHost(t *testing.T) {
	h := newHarness(t)
	h.signUp("alice@example.com")
	req := httptest.NewRequest("POST", "http://evil.test/api/auth/request-password-reset",
		strings.NewReader(`{"email":"alice@example.com","redirectTo":"/reset"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-Host", "evil.test")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("Forwarded", "host=evil.test;proto=https")
	res, err := h.app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("request-password-reset with a foreign Host: %d", res.StatusCode)
	}
	m, ok := h.outbox.Last("alice@example.com")
	if !ok {
		t.Fatal("no reset mail")
	}
	link := linkPattern.FindString(m.Text)
	if !strings.HasPrefix(link, testBaseURL+"/reset-password/") || strings.Contains(m.Text, "evil") {
		t.Fatalf("reset mail built on the request's host:\n%s", m.Text)
	}

	h.clock.Advance(time.Minute) // past the mail cooldown: a mail would go out now
	before := len(h.outbox.Mails())
	for _, to := range []string{"https://evil.test/reset", "//evil.test/reset"} {
		wantError(t, h.post("/request-password-reset", `{"email":"alice@example.com","redirectTo":"`+to+`"}`), 403, "INVALID_REDIRECT_URL", "Invalid redirectURL")
	}
	if n := len(h.outbox.Mails()); n != before {
		t.Fatalf("%d mails sent for refused requests", n-before)
	}
}

// Battery 25: every mutation route is POST-only: GET and HEAD are bare 404s
// that change nothing, and preflights from untrusted origins are not
// granted. A granted origin is echoed, never "*".
func TestBattery25_NoMutationOnGetOrHead(t *testing.T) {
	h := newHarness(t)
	jar := h.signUp("alice@example.com")
	before := h.userOf(t, jar)
	posts := []string{"/sign-up/email", "/sign-in/email", "/sign-out", "/revoke-session", "/revoke-sessions",
		"/revoke-other-sessions", "/update-session", "/update-user", "/change-password", "/verify-password",
		"/change-email", "/delete-user", "/request-password-reset", "/reset-password", "/send-verification-email"}
	for _, p := range posts {
		for _, m := range []string{"GET", "HEAD"} {
			r := h.do(m, "/api/auth"+p+"?name=Mallory&newPassword=hijacked+password&token=x", "", "Cookie", jar, "Origin", testOrigin)
			if r.status != 404 || r.body != "" || len(r.cookies) != 0 {
				t.Errorf("%s %s: %d %q %v", m, p, r.status, r.body, r.cookies)
			}
		}
		r := h.do("OPTIONS", "/api/auth"+p, "", "Origin", "https://evil.test", "Access-Control-Request-Method", "POST")
		if acao := r.header.Get("Access-Control-Allow-Origin"); acao != "" {
			t.Errorf("untrusted preflight of %s granted %q", p, acao)
		}
		r = h.do("OPTIONS", "/api/auth"+p, "", "Origin", "https://trusted.test", "Access-Control-Request-Method", "POST")
		if acao := r.header.Get("Access-Control-Allow-Origin"); acao != "https://trusted.test" || r.header.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("trusted preflight of %s: %q credentials %q", p, acao, r.header.Get("Access-Control-Allow-Credentials"))
		}
	}
	if after := h.userOf(t, jar); !reflect.DeepEqual(after, before) {
		t.Fatalf("user changed by GET/HEAD: %v, was %v", after, before)
	}
	if n := len(h.outbox.Mails()); n != 0 {
		t.Fatalf("%d mails sent by GET/HEAD", n)
	}
	h.signIn("alice@example.com")
}

// Battery 1: hostile bodies are answered with a 400 JSON error at once,
// never a 500.
func TestBattery1_HostileBodiesAnsweredFast(t *testing.T) {
	h := newHarness(t)
	corpus := []string{
		`{`, `null`, `[]`, `{"email":"a@b.co","email":"b@b.co","password":"x"}`,
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000),
		"{\"email\":\"\xff\xfe@b.co\",\"password\":\"x\"}", `{"email":["a"],"password":{"x":1}}`,
		`{"email":"a@b.co","password":"x","callbackURL":{"x":1}}`, `{"email":"a@b.co","password":"x","rememberMe":"yes"}`,
		`{"email":"a@b.co","password":"x"` + strings.Repeat(`,"k":1`, 5000) + `}`,
		`"` + strings.Repeat(`\u0000`, 5000) + `"`,
	}
	const limit = 100 * time.Millisecond
	var slowest time.Duration
	for _, path := range []string{"/sign-in/email", "/sign-up/email"} {
		for _, b := range corpus {
			start := time.Now()
			r := h.post(path, b)
			took := time.Since(start)
			slowest = max(slowest, took)
			if r.status != 400 || r.header.Get("Content-Type") != "application/json" {
				t.Errorf("%s %.40q: %d %s", path, b, r.status, r.body)
				continue
			}
			var e struct{ Message, Code string }
			if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.Message == "" {
				t.Errorf("%s %.40q: body %s is not an error object", path, b, r.body)
			}
			if took > limit {
				t.Errorf("%s %.40q took %s, want < %s", path, b, took, limit)
			}
		}
	}
	t.Logf("slowest hostile body answered in %s", slowest)
}

// Battery 5: a CRLF, a fullwidth "@" or an over-long address is a 400 on
// every route that takes an address, and nothing is mailed.
func TestBattery5_HostileEmailsOverHTTP(t *testing.T) {
	h := newHarness(t)
	jar := h.signUp("alice@example.com")
	bad := []string{"a@b.co\r\nBcc: x@y.co", "a@b.co\nBcc: x@y.co", "victim\uff20example.com",
		strings.Repeat("a", 300) + "@example.com", "alice@example.com\r\n", " alice@example.com"}
	for _, email := range bad {
		js, _ := json.Marshal(email)
		for _, tc := range []struct{ path, body string }{
			{"/sign-up/email", `{"name":"N","email":` + string(js) + `,"password":"` + testPass + `"}`},
			{"/sign-in/email", `{"email":` + string(js) + `,"password":"` + testPass + `"}`},
			{"/request-password-reset", `{"email":` + string(js) + `}`},
			{"/send-verification-email", `{"email":` + string(js) + `}`},
			{"/change-email", `{"newEmail":` + string(js) + `}`},
		} {
			r := h.post(tc.path, tc.body, "Cookie", jar)
			if r.status != 400 || !(strings.Contains(r.body, `"code":"INVALID_EMAIL"`) || strings.Contains(r.body, `"code":"VALIDATION_ERROR"`)) {
				t.Errorf("%s with %q: %d %s", tc.path, email, r.status, r.body)
			}
		}
	}
	if n := len(h.outbox.Mails()); n != 0 {
		t.Fatalf("%d mails sent for invalid addresses", n)
	}
	if _, err := h.store.Users().ByEmail(t.Context(), "victim@example.com"); err == nil {
		t.Fatal("a fullwidth-@ address was stored")
	}
}

// rawRequest sends req on a new connection and reads the answer while the
// request is still being written: the server answers an oversized request
// early and resets the connection, which would make a client that finishes
// writing first lose the answer.
func rawRequest(t *testing.T, addr, req string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	go func() { _, _ = c.Write([]byte(req)) }()
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// Battery 40 (and 1's oversized headers): a body one byte over the default
// limit is a 413 before it is decoded (invalid JSON one byte shorter is a
// 400), and a 16 KiB Cookie, a 100 KB Host or X-Forwarded-Host header is a
// 431; the server lives on.
func TestBattery40_DefaultLimitsOnARealConnection(t *testing.T) {
	h := newHarness(t)
	addr := strings.TrimPrefix(serve(t, h.app), "http://")
	request := func(extraHeaders, body string) string {
		return "POST /api/auth/sign-in/email HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" + extraHeaders +
			"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	}
	invalid := func(n int) string { return "{" + strings.Repeat("x", n-1) }
	if status, body := rawRequest(t, addr, request("", invalid(defaultBodyLimit+1))); status != 413 || !strings.Contains(body, `"code":"REQUEST_ENTITY_TOO_LARGE"`) {
		t.Fatalf("limit+1 bytes: %d %s", status, body)
	}
	if status, body := rawRequest(t, addr, request("", invalid(defaultBodyLimit))); status != 400 || !strings.Contains(body, `"code":"BAD_REQUEST"`) {
		t.Fatalf("limit bytes of invalid JSON: %d %s", status, body)
	}
	valid := `{"email":"a@b.co","password":"x"}`
	for name, hdr := range map[string]string{
		"16 KiB cookie":           "Cookie: a=" + strings.Repeat("b", 16<<10) + "\r\n",
		"100 KB host":             "Host: " + strings.Repeat("a", 100_000) + "\r\n",
		"100 KB x-forwarded-host": "X-Forwarded-Host: " + strings.Repeat("a.", 50_000) + "\r\n",
	} {
		if status, _ := rawRequest(t, addr, request(hdr, valid)); status != 431 {
			t.Errorf("%s: %d, want 431", name, status)
		}
	}
	if status, body := rawRequest(t, addr, request("", valid)); status != 401 {
		t.Fatalf("server unwell after the oversized requests: %d %s", status, body)
	}
}

// Battery 30: an account whose sign-ins are throttled (100 wrong passwords
// within the hour) can still be recovered by its owner: the reset mail goes
// out, the reset works, and it lifts the throttle, so the owner signs in
// with the new password at once while the old one stays wrong.
func TestBattery30_ThrottledOwnerCanStillReset(t *testing.T) {
	h := newHarness(t)
	h.signUp("alice@example.com")
	for i := range 100 {
		wantStatus(t, h.post("/sign-in/email", `{"email":"alice@example.com","password":"wrong password `+strings.Repeat("x", i%7)+`"}`), 401)
	}
	wantStatus(t, h.post("/sign-in/email", `{"email":"alice@example.com","password":"`+testPass+`"}`), 429)

	wantStatus(t, h.post("/request-password-reset", `{"email":"alice@example.com","redirectTo":"/reset"}`), 200)
	token := strings.TrimPrefix(h.mailLink("alice@example.com").Path, "/api/auth/reset-password/")
	wantBody(t, h.post("/reset-password", `{"newPassword":"owner new pass","token":"`+token+`"}`), 200, `{"status":true}`)
	h.signInWith("alice@example.com", "owner new pass")
	wantStatus(t, h.post("/sign-in/email", `{"email":"alice@example.com","password":"`+testPass+`"}`), 401)
}
