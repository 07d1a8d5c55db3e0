package twofactor_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/core"
	"github.com/authd/authd/core/twofactor"
)

func TestEnableStoresAnUnverifiedRowAndLeavesSignInAlone(t *testing.T) {
	e := newEnv(t)
	v := e.signUp("ann@example.com")
	res, err := e.svc.Enable(ctx, v, twofactor.EnableInput{Password: password, Issuer: "My App & Co"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Method != "totp" || len(res.BackupCodes) != 10 || res.Session != nil {
		t.Fatalf("enable = %+v", res)
	}
	for _, c := range res.BackupCodes {
		if len(c) != 11 || c[5] != '-' {
			t.Errorf("backup code %q is not xxxxx-xxxxx", c)
		}
	}
	rec, err := e.store.TwoFactors().ByUser(ctx, v.User.ID())
	if err != nil || rec.Verified || len(rec.Secret) != 144 {
		t.Fatalf("row = %+v, %v; want unverified with a 144-char sealed secret", rec, err)
	}
	if !strings.HasPrefix(res.TOTPURI, "otpauth://totp/My%20App%20%26%20Co:ann%40example.com?secret=") ||
		!strings.HasSuffix(res.TOTPURI, "&issuer=My+App+%26+Co&digits=6&period=30") {
		t.Errorf("URI = %s", res.TOTPURI)
	}
	if r := e.challenge("ann@example.com", true, ""); r.Session == nil || r.Gate.Challenge != nil {
		t.Errorf("an unverified enrolment challenged sign-in: %+v", r.Gate)
	}
	if _, err := e.svc.Enable(ctx, v, twofactor.EnableInput{Password: "wrong password"}); !errors.Is(err, core.ErrInvalidPassword) {
		t.Errorf("wrong password: %v", err)
	}
}

func TestTOTPURIMatchesBetterAuths(t *testing.T) {
	e := newEnv(t)
	v := e.signUp("ann+x@example.com")
	if _, err := e.svc.TOTPURI(ctx, v, password, core.RequestMeta{}); !errors.Is(err, twofactor.ErrTOTPNotEnabled) {
		t.Fatalf("without a row: %v", err)
	}
	if _, err := e.svc.Enable(ctx, v, twofactor.EnableInput{Password: password}); err != nil {
		t.Fatal(err)
	}
	// Stored as better-auth would have: the URI is its createOTP(...).url
	// for this secret (adapters/twofactorcrypto/testdata/gen-vectors.mjs).
	sealed, _ := e.keys.Seal("Abcdefghijklmnopqrstuvwxyz012-_9")
	rec, _ := e.store.TwoFactors().ByUser(ctx, v.User.ID())
	rec.Secret = sealed
	if err := e.store.TwoFactors().Put(ctx, rec); err != nil {
		t.Fatal(err)
	}
	svc := twofactor.New(twofactor.Deps{Repo: e.store.TwoFactors(), Keys: e.keys, Clock: e.clock}, twofactor.Options{Issuer: "My App & Co"}, e.auth)
	uri, err := svc.TOTPURI(ctx, v, password, core.RequestMeta{})
	want := "otpauth://totp/My%20App%20%26%20Co:ann%2Bx%40example.com?secret=IFRGGZDFMZTWQ2LKNNWG23TPOBYXE43UOV3HO6DZPIYDCMRNL44Q&issuer=My+App+%26+Co&digits=6&period=30"
	if err != nil || uri != want {
		t.Errorf("URI = %q, %v\nwant %q", uri, err, want)
	}
}

func TestEnrolmentThenChallengeCompletedWithTOTP(t *testing.T) {
	e := newEnv(t)
	v, key, _ := e.enrol("ann@example.com")
	if !v.User.TwoFactorEnabled() {
		t.Fatal("flag not set by the first right code")
	}
	if got := e.view(v.Session.Token()); !got.User.TwoFactorEnabled() {
		t.Error("stored flag not set")
	}

	r := e.challenge("ann@example.com", false, "")
	if r.Session != nil || r.Gate.Challenge == nil || !slices.Equal(r.Gate.Challenge.Methods, []string{"totp", "otp"}) {
		t.Fatalf("sign-in = session %v, gate %+v; want a totp/otp challenge and no session", r.Session, r.Gate)
	}
	if n := e.sessions(v.User.ID()); n != 1 {
		t.Errorf("%d sessions after the challenged sign-in, want only the enrolment's", n)
	}
	c := twofactor.Caller{Challenge: r.Gate.Challenge.ID, DontRemember: true}
	out, err := e.svc.VerifyTOTP(ctx, c, twofactor.VerifyInput{Code: code(key, e.step(0))})
	if err != nil || out.Session == nil || !out.ClearChallenge || out.Token != out.Session.Session.Token() {
		t.Fatalf("completion = %+v, %v", out, err)
	}
	if ttl := out.Session.Session.ExpiresAt().Sub(e.clock.T); ttl != 24*time.Hour {
		t.Errorf("rememberMe:false session lasts %v, want 1 day", ttl)
	}
	// The challenge is spent: completing it again, with a fresh code, fails.
	_, err = e.svc.VerifyTOTP(ctx, c, twofactor.VerifyInput{Code: code(key, e.step(1))})
	mustBe(t, err, twofactor.ErrInvalidTwoFactorCookie)
}

func TestUsedTOTPCodeIsRefusedInItsWindow(t *testing.T) {
	e := newEnv(t)
	_, key, _ := e.enrol("ann@example.com")
	now := code(key, e.step(0))
	first := e.challenge("ann@example.com", true, "")
	if _, err := e.svc.VerifyTOTP(ctx, twofactor.Caller{Challenge: first.Gate.Challenge.ID}, twofactor.VerifyInput{Code: now}); err != nil {
		t.Fatal(err)
	}
	second := e.challenge("ann@example.com", true, "")
	c := twofactor.Caller{Challenge: second.Gate.Challenge.ID}
	for _, replay := range []string{now, code(key, e.step(-1))} {
		_, err := e.svc.VerifyTOTP(ctx, c, twofactor.VerifyInput{Code: replay})
		mustBe(t, err, twofactor.ErrInvalidCode)
	}
	if _, err := e.svc.VerifyTOTP(ctx, c, twofactor.VerifyInput{Code: code(key, e.step(1))}); err != nil {
		t.Errorf("the next step's code: %v", err)
	}
}

func TestConcurrentUsesOfOneTOTPCodeOneWins(t *testing.T) {
	e := newEnv(t)
	_, key, _ := e.enrol("ann@example.com")
	const n = 6
	callers := make([]twofactor.Caller, n)
	for i := range callers {
		callers[i] = twofactor.Caller{Challenge: e.challenge("ann@example.com", true, "").Gate.Challenge.ID}
	}
	c := code(key, e.step(0))
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range n {
		wg.Go(func() {
			if _, err := e.svc.VerifyTOTP(ctx, callers[i], twofactor.VerifyInput{Code: c}); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d challenges completed with one code, want 1", wins)
	}
}

func TestChallengeAllowsFiveAttempts(t *testing.T) {
	e := newEnv(t)
	_, key, _ := e.enrol("ann@example.com")
	c := twofactor.Caller{Challenge: e.challenge("ann@example.com", true, "").Gate.Challenge.ID}
	for range 5 {
		_, err := e.svc.VerifyTOTP(ctx, c, twofactor.VerifyInput{Code: "000000x"})
		mustBe(t, err, twofactor.ErrInvalidCode)
	}
	out, err := e.svc.VerifyTOTP(ctx, c, twofactor.VerifyInput{Code: code(key, e.step(0))})
	mustBe(t, err, twofactor.ErrTooManyAttempts)
	if !out.ClearChallenge {
		t.Error("the exhausted challenge's cookie is kept")
	}
	_, err = e.svc.VerifyBackupCode(ctx, c, twofactor.VerifyInput{Code: "x"})
	mustBe(t, err, twofactor.ErrInvalidTwoFactorCookie)
}

func TestTenFailuresLockTheAccountForFifteenMinutes(t *testing.T) {
	e := newEnv(t)
	v, key, codes := e.enrol("ann@example.com")
	for i := range 10 {
		c := twofactor.Caller{Challenge: e.challenge("ann@example.com", true, "").Gate.Challenge.ID}
		var err error
		if i%2 == 0 {
			_, err = e.svc.VerifyTOTP(ctx, c, twofactor.VerifyInput{Code: "999999x"})
		} else {
			_, err = e.svc.VerifyBackupCode(ctx, c, twofactor.VerifyInput{Code: "wrong-code"})
		}
		if err == nil || errors.Is(err, twofactor.ErrAccountLocked) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	c := twofactor.Caller{Challenge: e.challenge("ann@example.com", true, "").Gate.Challenge.ID}
	_, err := e.svc.VerifyTOTP(ctx, c, twofactor.VerifyInput{Code: code(key, e.step(0))})
	mustBe(t, err, twofactor.ErrAccountLocked)
	_, err = e.svc.VerifyBackupCode(ctx, c, twofactor.VerifyInput{Code: codes[0]})
	mustBe(t, err, twofactor.ErrAccountLocked)
	if err := e.svc.SendOTP(ctx, c); err != nil {
		t.Errorf("send-otp during a lock: %v", err)
	}
	_, err = e.svc.VerifyOTP(ctx, c, twofactor.VerifyInput{Code: e.mail.lastCode(t)})
	mustBe(t, err, twofactor.ErrAccountLocked)

	e.clock.Advance(900 * time.Second)
	c = twofactor.Caller{Challenge: e.challenge("ann@example.com", true, "").Gate.Challenge.ID}
	if _, err := e.svc.VerifyTOTP(ctx, c, twofactor.VerifyInput{Code: code(key, e.step(0))}); err != nil {
		t.Fatalf("after the lock ran out: %v", err)
	}
	if rec, _ := e.store.TwoFactors().ByUser(ctx, v.User.ID()); rec.FailedCount != 0 || rec.LockedUntil != nil {
		t.Errorf("after a success: %+v", rec)
	}
}

func TestBackupCodeWorksOnceEvenUnderConcurrency(t *testing.T) {
	barrier := &barrierRepo{}
	e := newEnvWith(t, func(r twofactor.Repository) twofactor.Repository { barrier.Repository = r; return barrier })
	v, _, codes := e.enrol("ann@example.com")
	const n = 6
	callers := make([]twofactor.Caller, n)
	for i := range callers {
		callers[i] = twofactor.Caller{Challenge: e.challenge("ann@example.com", true, "").Gate.Challenge.ID}
	}
	// Every request finds the code in the same list.
	barrier.arm(n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range n {
		wg.Go(func() {
			if _, err := e.svc.VerifyBackupCode(ctx, callers[i], twofactor.VerifyInput{Code: codes[3]}); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d sign-ins with one backup code, want 1", wins)
	}
	c := twofactor.Caller{Challenge: e.challenge("ann@example.com", true, "").Gate.Challenge.ID}
	_, err := e.svc.VerifyBackupCode(ctx, c, twofactor.VerifyInput{Code: codes[3]})
	mustBe(t, err, twofactor.ErrInvalidBackupCode)
	if _, err := e.svc.VerifyBackupCode(ctx, c, twofactor.VerifyInput{Code: codes[4]}); err != nil {
		t.Fatalf("another code: %v", err)
	}
	rec, _ := e.store.TwoFactors().ByUser(ctx, v.User.ID())
	plain, _ := e.keys.Open(rec.BackupCodes)
	want := `["` + strings.Join(slices.Concat(codes[:3], codes[5:]), `","`) + `"]`
	if plain != want {
		t.Errorf("stored list %s, want %s (used codes removed, order kept)", plain, want)
	}
}

func TestOTPChallenge(t *testing.T) {
	e := newEnv(t)
	v := e.signUp("ann@example.com")
	if _, err := e.svc.Enable(ctx, v, twofactor.EnableInput{Password: password, Method: "otp"}); err != nil {
		t.Fatal(err)
	}
	r := e.challenge("ann@example.com", true, "")
	if r.Gate.Challenge == nil || !slices.Equal(r.Gate.Challenge.Methods, []string{"otp"}) {
		t.Fatalf("gate = %+v, want an otp-only challenge", r.Gate)
	}
	c := twofactor.Caller{Challenge: r.Gate.Challenge.ID}
	_, err := e.svc.VerifyOTP(ctx, c, twofactor.VerifyInput{Code: "123456"})
	mustBe(t, err, twofactor.ErrOTPHasExpired)
	if err := e.svc.SendOTP(ctx, c); err != nil {
		t.Fatal(err)
	}
	good := e.mail.lastCode(t)
	bad := "000000"
	if good == bad {
		bad = "111111"
	}
	for range 5 {
		_, err := e.svc.VerifyOTP(ctx, c, twofactor.VerifyInput{Code: bad})
		mustBe(t, err, twofactor.ErrInvalidCode)
	}
	_, err = e.svc.VerifyOTP(ctx, c, twofactor.VerifyInput{Code: good})
	mustBe(t, err, twofactor.ErrTooManyAttempts)
	if err := e.svc.SendOTP(ctx, c); err != nil {
		t.Fatal(err)
	}
	out, err := e.svc.VerifyOTP(ctx, c, twofactor.VerifyInput{Code: e.mail.lastCode(t)})
	if err != nil || out.Session == nil {
		t.Fatalf("right code: %+v, %v", out, err)
	}
	e.clock.Advance(181 * time.Second)
	c = twofactor.Caller{Challenge: e.challenge("ann@example.com", true, "").Gate.Challenge.ID}
	if err := e.svc.SendOTP(ctx, c); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(181 * time.Second)
	_, err = e.svc.VerifyOTP(ctx, c, twofactor.VerifyInput{Code: e.mail.lastCode(t)})
	mustBe(t, err, twofactor.ErrOTPHasExpired)
}

func TestTrustedDeviceSkipsTheChallengeAndRotates(t *testing.T) {
	e := newEnv(t)
	_, key, _ := e.enrol("ann@example.com")
	r := e.challenge("ann@example.com", true, "")
	out, err := e.svc.VerifyTOTP(ctx, twofactor.Caller{Challenge: r.Gate.Challenge.ID}, twofactor.VerifyInput{Code: code(key, e.step(0)), TrustDevice: true})
	if err != nil || out.TrustDevice == "" {
		t.Fatalf("trustDevice completion: %+v, %v", out, err)
	}
	trusted := e.challenge("ann@example.com", true, out.TrustDevice)
	if trusted.Session == nil || trusted.Gate.Challenge != nil || trusted.Gate.TrustDevice == "" || trusted.Gate.TrustDevice == out.TrustDevice {
		t.Fatalf("trusted sign-in: session %v, gate %+v; want a session and a rotated trust", trusted.Session, trusted.Gate)
	}
	// The old value was rotated away: it is cleared and the challenge runs.
	again := e.challenge("ann@example.com", true, out.TrustDevice)
	if again.Gate.Challenge == nil || !again.Gate.ClearTrustDevice {
		t.Errorf("replayed trust: %+v", again.Gate)
	}
	// Another user's trust, or a forged MAC, is no trust.
	e.enrol("bob@example.com")
	mac, id, _ := strings.Cut(trusted.Gate.TrustDevice, "!")
	for _, forged := range []string{"x" + mac + "!" + id, e.keys.TrustMAC("someone", id) + "!" + id} {
		if g := e.challenge("ann@example.com", true, forged).Gate; g.Challenge == nil || !g.ClearTrustDevice {
			t.Errorf("forged trust %q: %+v", forged, g)
		}
	}
	if g := e.challenge("bob@example.com", true, trusted.Gate.TrustDevice).Gate; g.Challenge == nil {
		t.Error("ann's trust skipped bob's challenge")
	}
}

func TestDisableTurnsEverythingOff(t *testing.T) {
	e := newEnv(t)
	v, _, _ := e.enrol("ann@example.com")
	_, err := e.svc.Disable(ctx, v, "wrong password", "", core.RequestMeta{})
	mustBe(t, err, core.ErrInvalidPassword)
	out, err := e.svc.Disable(ctx, v, password, "", core.RequestMeta{})
	if err != nil || out.Session.User.TwoFactorEnabled() || out.Session.Session.Token() == v.Session.Token() {
		t.Fatalf("disable = %+v, %v", out, err)
	}
	if _, err := e.auth.RequireSession(ctx, v.Session.Token()); err == nil {
		t.Error("the session from before disable still works")
	}
	if _, err := e.store.TwoFactors().ByUser(ctx, v.User.ID()); !errors.Is(err, twofactor.ErrNotFound) {
		t.Errorf("row after disable: %v", err)
	}
	if r := e.challenge("ann@example.com", true, ""); r.Session == nil {
		t.Error("challenged after disable")
	}
}

func TestForgedOrForeignChallengeIDs(t *testing.T) {
	e := newEnv(t)
	e.enrol("ann@example.com")
	r := e.challenge("ann@example.com", true, "")
	for _, id := range []string{"", "2fa-unknown", "2fa-attempts-" + r.Gate.Challenge.ID, "trust-device-x"} {
		_, err := e.svc.VerifyTOTP(ctx, twofactor.Caller{Challenge: id}, twofactor.VerifyInput{Code: "123456"})
		mustBe(t, err, twofactor.ErrInvalidTwoFactorCookie)
		err = e.svc.SendOTP(ctx, twofactor.Caller{Challenge: id})
		mustBe(t, err, twofactor.ErrInvalidTwoFactorCookie)
	}
}
