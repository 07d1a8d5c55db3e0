package httpfiber

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"

	"github.com/authd/authd/adapters/twofactorcrypto"
	"github.com/authd/authd/core/twofactor"
)

func (h *harness) twoFactorDeps() twofactor.Deps {
	return twofactor.Deps{Repo: h.store.TwoFactors(), Users: h.store.Users(), Verifications: h.store.Verifications(),
		Tx: h.store.Tx(), Keys: twofactorcrypto.NewKeys(testSecret), Codes: twofactorcrypto.Codes{}, Mailer: h.outbox,
		Clock: h.clock, Random: rand.Reader}
}

// totp is the code of the harness clock's step for the user's stored
// secret.
func (h *harness) totp(t *testing.T, email string) string {
	t.Helper()
	rec, err := h.store.TwoFactors().ByUser(t.Context(), h.storedUser(t, email).ID())
	if err != nil {
		t.Fatal(err)
	}
	secret, err := twofactorcrypto.NewKeys(testSecret).Open(rec.Secret)
	if err != nil {
		t.Fatal(err)
	}
	code, err := hotp.GenerateCodeCustom(base32.StdEncoding.EncodeToString([]byte(secret)), uint64(h.clock.T.Unix()/30),
		hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// enrolTOTP turns TOTP on for the user signed in with jar and moves the
// clock to the next step (the code is spent); it returns the (rotated)
// session's cookies.
func (h *harness) enrolTOTP(t *testing.T, email, jar string) string {
	t.Helper()
	wantStatus(t, h.post("/two-factor/enable", `{"password":"`+testPass+`"}`, "Cookie", jar), 200)
	r := h.post("/two-factor/verify-totp", `{"code":"`+h.totp(t, email)+`"}`, "Cookie", jar)
	wantStatus(t, r, 200)
	h.clock.Advance(30 * time.Second)
	return r.jar()
}

func TestTwoFactor_OffServesNoRoutesAndNoField(t *testing.T) {
	h := newHarness(t)
	r := h.post("/sign-up/email", `{"name":"A","email":"off@example.com","password":"`+testPass+`"}`)
	wantStatus(t, r, 200)
	if strings.Contains(r.body, "twoFactorEnabled") {
		t.Errorf("plugin off, yet the user carries twoFactorEnabled: %s", r.body)
	}
	wantStatus(t, h.post("/two-factor/enable", `{"password":"`+testPass+`"}`, "Cookie", r.jar()), 404)
}

func TestTwoFactor_EveryUserCarriesTheFlag(t *testing.T) {
	h := newHarness(t, harnessConfig{twoFactor: true})
	r := h.post("/sign-up/email", `{"name":"A","email":"flag@example.com","password":"`+testPass+`"}`)
	wantStatus(t, r, 200)
	if !strings.HasSuffix(r.body, `,"twoFactorEnabled":false}}`) {
		t.Errorf("sign-up: %s", r.body)
	}
	jar := h.enrolTOTP(t, "flag@example.com", r.jar())
	if s := h.get("/get-session", "Cookie", jar); !strings.Contains(s.body, `"twoFactorEnabled":true`) {
		t.Errorf("get-session after enrolment: %s", s.body)
	}
}

func TestTwoFactor_SignInAnswersTheChallengeWithoutASession(t *testing.T) {
	h := newHarness(t, harnessConfig{twoFactor: true})
	h.enrolTOTP(t, "ann@example.com", h.signUp("ann@example.com"))
	user := h.storedUser(t, "ann@example.com")
	before, _ := h.store.Sessions().ListByUser(t.Context(), user.ID())

	r := h.post("/sign-in/email", `{"email":"ann@example.com","password":"`+testPass+`","rememberMe":false}`)
	wantBody(t, r, 200, `{"twoFactorRedirect":true,"twoFactorMethods":["totp","otp"]}`)
	if after, _ := h.store.Sessions().ListByUser(t.Context(), user.ID()); len(after) != len(before) {
		t.Errorf("%d sessions after a challenged sign-in, want %d", len(after), len(before))
	}
	if c := r.cookie("better-auth.session_token"); !strings.Contains(c, "Max-Age=0") {
		t.Errorf("session cookie %q, want expired", c)
	}
	if c := r.cookie("better-auth.dont_remember"); c == "" || strings.Contains(c, "Max-Age") {
		t.Errorf("dont_remember cookie %q, want a browser-session cookie", c)
	}
	challenge := r.cookie("better-auth.two_factor")
	if !strings.HasPrefix(challenge, "better-auth.two_factor=2fa-") ||
		!strings.HasSuffix(challenge, "; Max-Age=600; Path=/; HttpOnly; SameSite=Lax") {
		t.Errorf("challenge cookie %q", challenge)
	}

	done := h.post("/two-factor/verify-totp", `{"code":"`+h.totp(t, "ann@example.com")+`","trustDevice":true}`, "Cookie", r.jar())
	wantStatus(t, done, 200)
	if !strings.Contains(done.cookie("better-auth.two_factor"), "Max-Age=0") ||
		!strings.Contains(done.cookie("better-auth.trust_device"), "; Max-Age=2592000;") ||
		!strings.Contains(done.cookie("better-auth.dont_remember"), "Max-Age=0") {
		t.Errorf("completion cookies: %q", done.cookies)
	}
	if c := done.cookie("better-auth.session_token"); c == "" || strings.Contains(c, "Max-Age") {
		t.Errorf("rememberMe:false session cookie %q, want no Max-Age", c)
	}
}

func TestTwoFactor_SpentChallengeClearsItsCookie(t *testing.T) {
	h := newHarness(t, harnessConfig{twoFactor: true})
	h.enrolTOTP(t, "bob@example.com", h.signUp("bob@example.com"))
	_, jar := h.signIn("bob@example.com")
	for range 5 {
		wantError(t, h.post("/two-factor/verify-totp", `{"code":"x"}`, "Cookie", jar), 401, "INVALID_CODE", "Invalid code")
	}
	r := h.post("/two-factor/verify-totp", `{"code":"x"}`, "Cookie", jar)
	wantError(t, r, 400, "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE", "Too many attempts. Please request a new code.")
	if !strings.Contains(r.cookie("better-auth.two_factor"), "Max-Age=0") {
		t.Errorf("the spent challenge's cookie is kept: %q", r.cookies)
	}
}

func TestTwoFactor_EnableRefusesOtherMethods(t *testing.T) {
	h := newHarness(t, harnessConfig{twoFactor: true})
	jar := h.signUp("carl@example.com")
	r := h.post("/two-factor/enable", `{"password":"`+testPass+`","method":"sms"}`, "Cookie", jar)
	wantStatus(t, r, 400)
	if !strings.Contains(r.body, `"code":"VALIDATION_ERROR"`) {
		t.Errorf("body %s", r.body)
	}
	wantError(t, h.post("/two-factor/enable", `{"password":"wrong password"}`, "Cookie", jar), 400, "INVALID_PASSWORD", "Invalid password")
}

func TestTwoFactor_UpdateUserCannotSetTheFlag(t *testing.T) {
	on := newHarness(t, harnessConfig{twoFactor: true})
	jar := on.signUp("dora@example.com")
	wantError(t, on.post("/update-user", `{"twoFactorEnabled":true}`, "Cookie", jar), 400, "FIELD_NOT_ALLOWED", "twoFactorEnabled is not allowed to be set")
	wantError(t, on.post("/update-user", `{"twoFactorEnabled":1,"email":"x@example.com"}`, "Cookie", jar), 400, "EMAIL_CAN_NOT_BE_UPDATED", "Email can not be updated")
	wantStatus(t, on.post("/update-user", `{"name":"D","twoFactorEnabled":false}`, "Cookie", jar), 200)
	if on.storedUser(t, "dora@example.com").TwoFactorEnabled() {
		t.Error("update-user set the flag")
	}
	// Without the plugin the key is anyone's, and ignored.
	off := newHarness(t)
	jar = off.signUp("dora@example.com")
	wantStatus(t, off.post("/update-user", `{"name":"D","twoFactorEnabled":true}`, "Cookie", jar), 200)
}
