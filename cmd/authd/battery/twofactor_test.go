package battery

import (
	"context"
	"encoding/base32"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/uptrace/bun"

	"github.com/authd/authd/adapters/twofactorcrypto"
	"github.com/authd/authd/cmd/authd/authdtest"
)

// TestTwoFactorAbuse is issue 12's battery rows against the binary with
// AUTH_TWO_FACTOR_ENABLED: a TOTP code replayed within its window, brute
// force of the six digits (per-challenge budget, then the account lock),
// a stolen, replayed or forged challenge cookie, a forged trust cookie, a
// backup code spent by concurrent requests, and hostile verify bodies.
func TestTwoFactorAbuse(t *testing.T) {
	pg := sharedCluster(t)
	name := pg.migratedDB(t)
	a := startAuthd(t, authdEnv(pg, name, authdtest.FreeAddr(t)).with("AUTH_TWO_FACTOR_ENABLED", "true"))
	db := pg.open(t, name)
	keys := twofactorcrypto.NewKeys(testSecret)
	tf := &twoFactorKit{t: t, a: a, db: db, keys: keys}

	t.Run("a used TOTP code is refused within its window", func(t *testing.T) {
		email, _ := tf.enrol(t)
		code := tf.code(t, email, 1)
		first := tf.challenge(t, email)
		if r := tf.verify(t, first, "/two-factor/verify-totp", code); r.Status != http.StatusOK {
			t.Fatalf("first use: %s", r)
		}
		second := tf.challenge(t, email)
		if r := tf.verify(t, second, "/two-factor/verify-totp", code); r.Status != http.StatusUnauthorized || r.code() != "INVALID_CODE" {
			t.Fatalf("replayed code: %s; want 401 INVALID_CODE", r)
		}
	})

	t.Run("one TOTP code, many concurrent challenges: one signs in", func(t *testing.T) {
		// Rounds on fresh users: each loser's refusal counts toward its
		// user's lock, which must not be reached.
		for round := 0; round < 10; round++ {
			email, _ := tf.enrol(t)
			const n = 8
			clients := make([]*client, n)
			for i := range clients {
				clients[i] = tf.challenge(t, email)
			}
			statuses := postAtOnce(t, clients, "/api/auth/two-factor/verify-totp", map[string]any{"code": tf.code(t, email, 1)})
			ok := 0
			for _, s := range statuses {
				if s == http.StatusOK {
					ok++
				} else if s != http.StatusUnauthorized {
					t.Errorf("status %d among %v", s, statuses)
				}
			}
			if ok != 1 {
				t.Fatalf("%d sign-ins with one TOTP code (statuses %v), want 1", ok, statuses)
			}
		}
	})

	t.Run("guessing the six digits: five tries a challenge, then the account locks", func(t *testing.T) {
		email, _ := tf.enrol(t)
		guesses := 0
		for round := 0; round < 2; round++ {
			c := tf.challenge(t, email)
			for i := 0; i < 5; i++ {
				guesses++
				if r := tf.verify(t, c, "/two-factor/verify-totp", "00000"+string(rune('0'+i))+"x"); r.Status != http.StatusUnauthorized {
					t.Fatalf("guess %d: %s", guesses, r)
				}
			}
			// The tenth failure locked the account, which answers first.
			if round == 1 {
				break
			}
			if r := tf.verify(t, c, "/two-factor/verify-totp", tf.code(t, email, 1)); r.Status != http.StatusBadRequest ||
				r.code() != "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE" {
				t.Fatalf("right code after five guesses: %s", r)
			}
		}
		c := tf.challenge(t, email)
		r := tf.verify(t, c, "/two-factor/verify-totp", tf.code(t, email, 1))
		if r.Status != http.StatusTooManyRequests || r.code() != "ACCOUNT_TEMPORARILY_LOCKED" {
			t.Fatalf("right code after ten failures: %s; want 429 ACCOUNT_TEMPORARILY_LOCKED", r)
		}
		var until time.Time
		if err := db.NewRaw(`SELECT t.locked_until FROM two_factor t JOIN "user" u ON u.id = t.user_id WHERE u.email = ?`, email).
			Scan(context.Background(), &until); err != nil {
			t.Fatal(err)
		}
		lockedFor := time.Until(until)
		if lockedFor < 14*time.Minute || lockedFor > 16*time.Minute {
			t.Errorf("locked for %v, want 15 minutes", lockedFor)
		}
	})

	t.Run("a challenge cookie works once, and only as signed", func(t *testing.T) {
		email, _ := tf.enrol(t)
		c := tf.challenge(t, email)
		stolen := cookieValue(t, c, a, "better-auth.two_factor")
		if r := tf.verify(t, c, "/two-factor/verify-totp", tf.code(t, email, 1)); r.Status != http.StatusOK {
			t.Fatalf("completion: %s", r)
		}
		thief := newClient(a)
		setCookie(thief, a, "better-auth.two_factor", stolen)
		if r := tf.verify(t, thief, "/two-factor/verify-backup-code", "aaaaa-aaaaa"); r.Status != http.StatusUnauthorized ||
			r.code() != "INVALID_TWO_FACTOR_COOKIE" {
			t.Fatalf("replayed challenge cookie: %s", r)
		}
		fresh := tf.challenge(t, email)
		live, _ := url.QueryUnescape(cookieValue(t, fresh, a, "better-auth.two_factor"))
		liveID, _, _ := strings.Cut(live, ".")
		forged := newClient(a)
		setCookie(forged, a, "better-auth.two_factor", url.QueryEscape(liveID+"."+strings.Repeat("A", 43)+"="))
		if r := tf.verify(t, forged, "/two-factor/verify-totp", "123456"); r.Status != http.StatusUnauthorized ||
			r.code() != "INVALID_TWO_FACTOR_COOKIE" {
			t.Fatalf("forged signature on a live challenge: %s", r)
		}
		// A value the server signed for another cookie is no challenge.
		sessionCookie := newClient(a)
		session := cookieValue(t, tf.signedIn(t), a, "better-auth.session_token")
		setCookie(sessionCookie, a, "better-auth.two_factor", session)
		if r := tf.verify(t, sessionCookie, "/two-factor/send-otp", ""); r.Status != http.StatusUnauthorized {
			t.Fatalf("a session cookie as a challenge: %s", r)
		}
	})

	t.Run("a forged trust cookie does not skip the challenge", func(t *testing.T) {
		ann, _ := tf.enrol(t)
		bob, _ := tf.enrol(t)
		c := tf.challenge(t, bob)
		r, _ := c.post("/api/auth/two-factor/verify-totp", map[string]any{"code": tf.code(t, bob, 1), "trustDevice": true})
		if r.Status != http.StatusOK {
			t.Fatalf("bob trusts his browser: %s", r)
		}
		trusted := cookieValue(t, c, a, "better-auth.trust_device")
		// Bob's trust on Ann's sign-in: validly signed, but not hers.
		thief := newClient(a)
		setCookie(thief, a, "better-auth.trust_device", trusted)
		if r, _ := thief.signIn(ann, tf.password()); !strings.Contains(string(r.Body), `"twoFactorRedirect":true`) {
			t.Fatalf("bob's trust skipped ann's challenge: %s", r)
		}
		// An unsigned value naming Bob's device.
		raw, _ := url.QueryUnescape(trusted)
		value := raw[:strings.LastIndexByte(raw, '.')]
		unsigned := newClient(a)
		setCookie(unsigned, a, "better-auth.trust_device", url.QueryEscape(value+"."+strings.Repeat("B", 43)+"="))
		if r, _ := unsigned.signIn(bob, tf.password()); !strings.Contains(string(r.Body), `"twoFactorRedirect":true`) {
			t.Fatalf("an unsigned trust cookie skipped the challenge: %s", r)
		}
	})

	t.Run("one backup code, many concurrent requests: one signs in", func(t *testing.T) {
		email, codes := tf.enrol(t)
		const n = 8
		clients := make([]*client, n)
		for i := range clients {
			clients[i] = tf.challenge(t, email)
		}
		statuses := postAtOnce(t, clients, "/api/auth/two-factor/verify-backup-code", map[string]any{"code": codes[0]})
		ok := 0
		for _, s := range statuses {
			switch s {
			case http.StatusOK:
				ok++
			case http.StatusUnauthorized, http.StatusConflict:
			default:
				t.Errorf("status %d among %v", s, statuses)
			}
		}
		if ok != 1 {
			t.Fatalf("%d sign-ins with one backup code (statuses %v), want 1", ok, statuses)
		}
	})

	t.Run("hostile verify bodies are 4xx", func(t *testing.T) {
		email, _ := tf.enrol(t)
		c := tf.challenge(t, email)
		for _, body := range []any{
			map[string]any{"code": strings.Repeat("9", 60_000)},
			map[string]any{"code": 123456},
			map[string]any{"code": "123456", "trustDevice": "yes"},
			map[string]any{},
		} {
			r, err := c.post("/api/auth/two-factor/verify-totp", body)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status < 400 || r.Status >= 500 {
				t.Errorf("body %.60v: %s", body, r)
			}
		}
	})
}

type twoFactorKit struct {
	t    *testing.T
	a    *authd
	db   *bun.DB
	keys *twofactorcrypto.Keys
}

func (k *twoFactorKit) password() string { return "two-factor battery password" }

// signedIn is a client with a session of a new user without two-factor.
func (k *twoFactorKit) signedIn(t *testing.T) *client {
	t.Helper()
	c := newClient(k.a)
	c.mustSignUp(t, uniqueEmail("tf-plain"), k.password())
	return c
}

// enrol signs a new user up and turns TOTP on; it returns the email and the
// backup codes.
func (k *twoFactorKit) enrol(t *testing.T) (string, []string) {
	t.Helper()
	email := uniqueEmail("tf")
	c := newClient(k.a)
	c.mustSignUp(t, email, k.password())
	r, err := c.post("/api/auth/two-factor/enable", map[string]any{"password": k.password()})
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("enable: %v %v", r, err)
	}
	var body struct {
		BackupCodes []string `json:"backupCodes"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	if r, err := c.post("/api/auth/two-factor/verify-totp", map[string]any{"code": k.code(t, email, 0)}); err != nil || r.Status != http.StatusOK {
		t.Fatalf("enrolment code: %v %v", r, err)
	}
	return email, body.BackupCodes
}

// code is the TOTP code of the current step plus offset, from the secret
// as stored.
func (k *twoFactorKit) code(t *testing.T, email string, offset int64) string {
	t.Helper()
	var sealed string
	if err := k.db.NewRaw(`SELECT t.secret FROM two_factor t JOIN "user" u ON u.id = t.user_id WHERE u.email = ?`, email).
		Scan(context.Background(), &sealed); err != nil {
		t.Fatal(err)
	}
	secret, err := k.keys.Open(sealed)
	if err != nil {
		t.Fatal(err)
	}
	c, err := hotp.GenerateCodeCustom(base32.StdEncoding.EncodeToString([]byte(secret)), uint64(time.Now().Unix()/30+offset),
		hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// challenge is a new client whose password sign-in was challenged.
func (k *twoFactorKit) challenge(t *testing.T, email string) *client {
	t.Helper()
	c := newClient(k.a)
	r, err := c.signIn(email, k.password())
	if err != nil || r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"twoFactorRedirect":true`) {
		t.Fatalf("sign-in: %v %v; want a challenge", r, err)
	}
	return c
}

func (k *twoFactorKit) verify(t *testing.T, c *client, path, code string) *reply {
	t.Helper()
	var body any
	if code != "" {
		body = map[string]any{"code": code}
	} else {
		body = map[string]any{}
	}
	r, err := c.post("/api/auth"+path, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func cookieValue(t *testing.T, c *client, a *authd, name string) string {
	t.Helper()
	u, _ := url.Parse(a.Origin)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	t.Fatalf("no cookie %s", name)
	return ""
}

func setCookie(c *client, a *authd, name, value string) {
	u, _ := url.Parse(a.Origin)
	c.hc.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// postAtOnce has every client post body to path at the same moment and
// returns their statuses (0 where the request failed, which is an error).
func postAtOnce(t *testing.T, clients []*client, path string, body any) []int {
	t.Helper()
	statuses := make([]int, len(clients))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			<-start
			r, err := clients[i].post(path, body)
			if err != nil {
				t.Error(err)
				return
			}
			statuses[i] = r.Status
		})
	}
	close(start)
	wg.Wait()
	return statuses
}
