package e2e

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	mathrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/adapters/bunpg/bunpgtest"
	"github.com/authd/authd/adapters/redisstore/redistest"
)

// TestRedisCrossServer runs authd and the real better-auth, configured with
// @better-auth/redis-storage from the same env, on one database and one
// Redis: each accepts the other's sessions, a sign-out, a user update or a
// revocation on one is seen at once by the other, and the keys authd writes
// have better-auth's names, shapes and TTLs; with sessions in the database
// too (the default) and with sessions only in Redis.
func TestRedisCrossServer(t *testing.T) {
	t.Run("sessions in the database too", func(t *testing.T) { redisCrossServer(t, "true") })
	t.Run("sessions only in redis", func(t *testing.T) { redisCrossServer(t, "false") })
}

func redisCrossServer(t *testing.T, inDatabase string) {
	installJS(t)
	rdb, _ := redistest.Client(t)
	db, bunDB := bunpgtest.NewMigratedDatabase(t)
	mailDir := t.TempDir()
	env := []string{"AUTH_SECONDARY_STORAGE=redis", "REDIS_URL=" + redistest.URL(), "AUTH_STORE_SESSION_IN_DATABASE=" + inDatabase}
	authd := startAuthd(t, db, startMailSink(t, mailDir), env...)
	ref := startReferenceWith(t, db, mailDir, env...)
	a := &httpAPI{base: authd.Origin + "/api/auth", origin: authd.Origin}
	b := &httpAPI{base: ref.Origin + "/api/auth", origin: ref.Origin}
	ctx := t.Context()

	email := "redis-" + strings.ToLower(rand.Text()) + "@example.com"
	status, body, cb := b.do(t, http.MethodPost, "/sign-up/email", "", map[string]any{"email": email, "password": "password123", "name": "Ref"})
	if status != http.StatusOK {
		t.Fatalf("better-auth sign-up: %d %v", status, body)
	}
	userID := body["user"].(map[string]any)["id"].(string)
	status, body, ca := a.do(t, http.MethodPost, "/sign-in/email", "", map[string]any{"email": email, "password": "password123"})
	if status != http.StatusOK {
		t.Fatalf("authd sign-in: %d %v", status, body)
	}
	tokenA, tokenB := body["token"].(string), b.session(t, cb)["session"].(map[string]any)["token"].(string)

	t.Run("each accepts the other's sessions", func(t *testing.T) {
		sameJSON(t, "better-auth's session read by authd and by better-auth", a.session(t, cb), b.session(t, cb))
		sameJSON(t, "authd's session read by better-auth and by authd", b.session(t, ca), a.session(t, ca))
	})

	t.Run("authd's keys have better-auth's names, shapes and TTLs", func(t *testing.T) {
		shape := func(token string) (keys []string, ttl time.Duration) {
			var v map[string]map[string]any
			if err := json.Unmarshal([]byte(rdb.Get(ctx, "better-auth:"+token).Val()), &v); err != nil {
				t.Fatalf("value of %s…: %v", token[:4], err)
			}
			for part, fields := range v {
				for f := range fields {
					keys = append(keys, part+"."+f)
				}
			}
			slices.Sort(keys)
			return keys, rdb.TTL(ctx, "better-auth:"+token).Val()
		}
		ka, ttlA := shape(tokenA)
		kb, ttlB := shape(tokenB)
		if !slices.Equal(ka, kb) {
			t.Errorf("fields of authd's value %v, of better-auth's %v", ka, kb)
		}
		if d := ttlA - ttlB; d < -5*time.Second || d > 5*time.Second || ttlA < 604700*time.Second {
			t.Errorf("TTLs: authd's %v, better-auth's %v", ttlA, ttlB)
		}
		var list []map[string]any
		_ = json.Unmarshal([]byte(rdb.Get(ctx, "better-auth:active-sessions-"+userID).Val()), &list)
		var tokens []string
		for _, e := range list {
			tokens = append(tokens, e["token"].(string))
		}
		if !slices.Contains(tokens, tokenA) || !slices.Contains(tokens, tokenB) {
			t.Errorf("active-sessions lists %v, want both servers' tokens", tokens)
		}
	})

	t.Run("session rows follow AUTH_STORE_SESSION_IN_DATABASE", func(t *testing.T) {
		n, err := bunDB.NewSelect().Table("session").Where("user_id = ?", userID).Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{"true": 2, "false": 0}[inDatabase]; n != want {
			t.Errorf("%d session rows, want %d", n, want)
		}
	})

	t.Run("list-sessions on each lists both servers' sessions", func(t *testing.T) {
		for name, api := range map[string]*httpAPI{"authd": a, "better-auth": b} {
			req, _ := http.NewRequest(http.MethodGet, api.base+"/list-sessions", nil)
			req.Header.Set("Cookie", ca)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var list []map[string]any
			err = json.NewDecoder(res.Body).Decode(&list)
			res.Body.Close()
			var tokens []string
			for _, s := range list {
				tokens = append(tokens, s["token"].(string))
			}
			if err != nil || !slices.Contains(tokens, tokenA) || !slices.Contains(tokens, tokenB) {
				t.Errorf("%s list-sessions: %d %v %v, want both servers' tokens", name, res.StatusCode, tokens, err)
			}
		}
	})

	t.Run("a user update on one is seen at once by the other", func(t *testing.T) {
		if status, body, _ := a.do(t, http.MethodPost, "/update-user", ca, map[string]any{"name": "Changed on authd"}); status != http.StatusOK {
			t.Fatalf("authd update-user: %d %v", status, body)
		}
		if got := b.session(t, cb)["user"].(map[string]any)["name"]; got != "Changed on authd" {
			t.Errorf("better-auth sees name %v after authd's update", got)
		}
		if status, body, _ := b.do(t, http.MethodPost, "/update-user", cb, map[string]any{"name": "Changed on better-auth"}); status != http.StatusOK {
			t.Fatalf("better-auth update-user: %d %v", status, body)
		}
		if got := a.session(t, ca)["user"].(map[string]any)["name"]; got != "Changed on better-auth" {
			t.Errorf("authd sees name %v after better-auth's update", got)
		}
	})

	t.Run("a sign-out on one is seen at once by the other", func(t *testing.T) {
		status, _, c2 := b.do(t, http.MethodPost, "/sign-in/email", "", map[string]any{"email": email, "password": "password123"})
		if status != http.StatusOK {
			t.Fatalf("better-auth sign-in: %d", status)
		}
		a.session(t, c2)
		if status, body, _ := b.do(t, http.MethodPost, "/sign-out", c2, map[string]any{}); status != http.StatusOK {
			t.Fatalf("better-auth sign-out: %d %v", status, body)
		}
		if status, body, _ := a.do(t, http.MethodGet, "/get-session", c2, nil); status != http.StatusOK || body != nil {
			t.Errorf("authd get-session after better-auth's sign-out: %d %v, want 200 null", status, body)
		}
	})

	t.Run("a revocation on one is seen at once by the other", func(t *testing.T) {
		if status, body, _ := a.do(t, http.MethodPost, "/revoke-sessions", ca, map[string]any{}); status != http.StatusOK {
			t.Fatalf("authd revoke-sessions: %d %v", status, body)
		}
		for name, c := range map[string]string{"authd's": ca, "better-auth's": cb} {
			if status, body, _ := b.do(t, http.MethodGet, "/get-session", c, nil); status != http.StatusOK || body != nil {
				t.Errorf("better-auth get-session of %s session after authd's revoke-sessions: %d %v, want 200 null", name, status, body)
			}
		}
		if m := rdb.Get(ctx, "better-auth:revoked-sessions-before-"+userID).Val(); m == "" {
			t.Error("authd's revoke-sessions set no revoked-sessions-before marker")
		}
	})

	// Verification values live only in Redis: a reset token better-auth
	// mailed is redeemed on authd.
	t.Run("a password reset begun on one finishes on the other", func(t *testing.T) {
		before, _ := os.ReadDir(mailDir)
		if status, body, _ := b.do(t, http.MethodPost, "/request-password-reset", "", map[string]any{"email": email, "redirectTo": "/reset"}); status != http.StatusOK {
			t.Fatalf("better-auth request-password-reset: %d %v", status, body)
		}
		token := ""
		for i := 0; i < 100 && token == ""; i++ {
			entries, _ := os.ReadDir(mailDir)
			for _, e := range entries[min(len(before), len(entries)):] {
				raw, _ := os.ReadFile(filepath.Join(mailDir, e.Name()))
				if m := regexp.MustCompile(`/reset-password/([A-Za-z0-9_-]+)`).FindSubmatch(raw); m != nil && strings.Contains(string(raw), email) {
					token = string(m[1])
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		if token == "" {
			t.Fatal("no reset mail from better-auth")
		}
		if n := rdb.Exists(ctx, "better-auth:verification:reset-password:"+token).Val(); n != 1 {
			t.Errorf("the reset token is not in Redis")
		}
		if status, body, _ := a.do(t, http.MethodPost, "/reset-password", "", map[string]any{"token": token, "newPassword": "new-password-456"}); status != http.StatusOK {
			t.Fatalf("authd reset-password with better-auth's token: %d %v", status, body)
		}
		if status, body, _ := b.do(t, http.MethodPost, "/sign-in/email", "", map[string]any{"email": email, "password": "new-password-456"}); status != http.StatusOK {
			t.Errorf("better-auth sign-in with the new password: %d %v", status, body)
		}
		if n := rdb.Exists(ctx, "better-auth:verification:reset-password:"+token).Val(); n != 0 {
			t.Errorf("the used reset token is still in Redis")
		}
	})
}

// TestRedisSharedRateLimits: with Redis, authd and better-auth count one
// client's requests to a path in one counter (better-auth:<ip>|<path>), so
// the limit holds across the two servers. The client address comes from a
// single X-Forwarded-For, which better-auth believes by default and authd
// from AUTH_TRUSTED_PROXIES. Bodies are invalid (400 at once), so the four
// requests take far less than the 10 s window.
func TestRedisSharedRateLimits(t *testing.T) {
	installJS(t)
	rdb, _ := redistest.Client(t)
	db, _ := bunpgtest.NewMigratedDatabase(t)
	mailDir := t.TempDir()
	env := []string{"AUTH_SECONDARY_STORAGE=redis", "REDIS_URL=" + redistest.URL(), "AUTH_RATE_LIMIT_ENABLED=true"}
	authd := startAuthd(t, db, startMailSink(t, mailDir), append(env, "AUTH_TRUSTED_PROXIES=127.0.0.1")...)
	ref := startReferenceWith(t, db, mailDir, env...)
	ip := fmt.Sprintf("198.51.%d.%d", mathrand.IntN(250)+1, mathrand.IntN(250)+1)
	post := func(origin string) int {
		status, _, _ := callFrom(t, ip, http.MethodPost, origin, "/api/auth/sign-in/email", "{}")
		return status
	}
	var got []int
	for _, origin := range []string{authd.Origin, ref.Origin, authd.Origin, ref.Origin, authd.Origin} {
		got = append(got, post(origin))
	}
	want := []int{400, 400, 400, 429, 429}
	if !slices.Equal(got, want) {
		t.Errorf("sign-in/email from one client alternating authd, better-auth: %v, want %v (3 per 10 s, one counter)", got, want)
	}
	if n := rdb.Get(t.Context(), "better-auth:"+ip+"|/sign-in/email").Val(); n != "5" {
		t.Errorf("the shared counter is %q, want 5", n)
	}
}

// TestTwoFactorCrossServerOnRedis: the twoFactor cross-server suite with
// both servers on one Redis, where challenges, attempt counters and mailed
// codes (verification values) live only in Redis and cached session users
// carry twoFactorEnabled.
func TestTwoFactorCrossServerOnRedis(t *testing.T) {
	installJS(t)
	redistest.Client(t)
	db, _ := bunpgtest.NewMigratedDatabase(t)
	mailDir := t.TempDir()
	env := []string{twoFactorOn, "AUTH_SECONDARY_STORAGE=redis", "REDIS_URL=" + redistest.URL()}
	authd := startAuthd(t, db, startMailSink(t, mailDir), env...)
	ref := startReferenceWith(t, db, mailDir, env...)
	t.Run("authd then better-auth", func(t *testing.T) {
		runJSSuite(t, db, "twofactor-cross.test.mjs", mailDir, "A_URL="+authd.Origin, "B_URL="+ref.Origin)
	})
	t.Run("better-auth then authd", func(t *testing.T) {
		runJSSuite(t, db, "twofactor-cross.test.mjs", mailDir, "A_URL="+ref.Origin, "B_URL="+authd.Origin)
	})
}

// The twoFactor suite against authd alone on Redis.
func TestAuthdTwoFactorSuiteOnRedis(t *testing.T) {
	installJS(t)
	redistest.Client(t)
	db, _ := bunpgtest.NewMigratedDatabase(t)
	mailDir := t.TempDir()
	authd := startAuthd(t, db, startMailSink(t, mailDir), twoFactorOn, "AUTH_SECONDARY_STORAGE=redis", "REDIS_URL="+redistest.URL())
	runJSSuite(t, db, "twofactor.test.mjs", mailDir, "AUTHD_URL="+authd.Origin)
}

// The better-auth JS client suite against authd on Redis, in both session
// modes: nothing the client sees changes.
func TestAuthdClientSuiteOnRedis(t *testing.T) {
	installJS(t)
	redistest.Client(t)
	for _, inDatabase := range []string{"true", "false"} {
		t.Run("AUTH_STORE_SESSION_IN_DATABASE="+inDatabase, func(t *testing.T) {
			db, _ := bunpgtest.NewMigratedDatabase(t)
			mailDir := t.TempDir()
			authd := startAuthd(t, db, startMailSink(t, mailDir), "AUTH_SECONDARY_STORAGE=redis", "REDIS_URL="+redistest.URL(),
				"AUTH_STORE_SESSION_IN_DATABASE="+inDatabase)
			runClientSuite(t, db, authd.Origin, mailDir)
		})
	}
}

// The jwt/bearer suite against authd on Redis.
func TestAuthdTokensSuiteOnRedis(t *testing.T) {
	installJS(t)
	redistest.Client(t)
	db, _ := bunpgtest.NewMigratedDatabase(t)
	mailDir := t.TempDir()
	authd := startAuthd(t, db, startMailSink(t, mailDir), slices.Concat(pluginsOn, []string{"AUTH_SECONDARY_STORAGE=redis", "REDIS_URL=" + redistest.URL()})...)
	runTokensSuite(t, db, authd.Origin, authd.Origin, authd.Origin)
}
