package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/authd/authd/adapters/bunpg/bunpgtest"
	"github.com/authd/authd/adapters/config"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func testConfig(t *testing.T, env ...string) config.Config {
	t.Helper()
	addr := freeAddr(t)
	base := []string{
		"APP_ENV=test",
		"APP_SECRET=app-test-secret-0123456789abcdefghijklmnop",
		"AUTH_BASE_URL=http://" + addr + "/api",
		"HTTP_ADDR=" + addr,
		"AUTH_RATE_LIMIT_ENABLED=false",
	}
	cfg, err := config.Load(config.WithEnviron(append(base, env...)), config.WithConfigFile("../../configs/config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func startApp(t *testing.T, cfg config.Config, store storage) {
	t.Helper()
	app := newApp(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), store)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := app.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
}

func signUp(t *testing.T, cfg config.Config, email string) *http.Cookie {
	t.Helper()
	body := fmt.Sprintf(`{"name":"N","email":%q,"password":"correct horse battery"}`, email)
	res, err := http.Post(cfg.AuthBaseURL()+"/sign-up/email", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("sign-up: %d %s", res.StatusCode, b)
	}
	for _, c := range res.Cookies() {
		if c.Name == "better-auth.session_token" {
			return c
		}
	}
	t.Fatal("sign-up set no session cookie")
	return nil
}

func TestGraphIsCompleteForBothStorages(t *testing.T) {
	cfg := testConfig(t)
	for name, store := range map[string]storage{"postgres": postgresStorage, "memory": memoryStorage} {
		if err := fx.ValidateApp(appOptions(cfg, slog.Default(), store)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	twoFactor := testConfig(t, "AUTH_TWO_FACTOR_ENABLED=true")
	for name, store := range map[string]storage{"postgres": postgresStorage, "memory": memoryStorage} {
		if err := fx.ValidateApp(appOptions(twoFactor, slog.Default(), store)); err != nil {
			t.Fatalf("%s with two-factor: %v", name, err)
		}
	}
	shared := testConfig(t, "AUTH_RATE_LIMIT_STORAGE=database")
	if err := fx.ValidateApp(appOptions(shared, slog.Default(), postgresStorage)); err != nil {
		t.Fatalf("postgres with the shared rate limiter: %v", err)
	}
}

// Every adapter must share the single *bun.DB: under a burst of concurrent
// requests the server may never hold more connections than one pool allows.
func TestRunningAppHoldsOnePool(t *testing.T) {
	dbCfg, db := bunpgtest.NewMigratedDatabase(t)
	cfg := testConfig(t,
		"DB_HOST="+dbCfg.Host, fmt.Sprintf("DB_PORT=%d", dbCfg.Port), "DB_NAME="+dbCfg.Name, "DB_MAX_OPEN_CONNS=3")
	startApp(t, cfg, postgresStorage)
	cookie := signUp(t, cfg, "pool@example.com")

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, cfg.AuthBaseURL()+"/get-session", nil)
			req.AddCookie(cookie)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("get-session: %d", res.StatusCode)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var conns int
	if err := db.NewRaw(`SELECT count(*) FROM pg_stat_activity WHERE datname = ? AND application_name = 'authd'`, dbCfg.Name).
		Scan(context.Background(), &conns); err != nil {
		t.Fatal(err)
	}
	if conns < 1 || conns > 3 {
		t.Fatalf("authd holds %d connections to its database, want between 1 and the pool size 3", conns)
	}
}

// Tests can swap the Postgres adapters for the in-memory ones and still run
// the whole application.
func TestAppRunsOnMemoryAdapters(t *testing.T) {
	cfg := testConfig(t)
	startApp(t, cfg, memoryStorage)
	signUp(t, cfg, "mem@example.com")
	res, err := http.Post(cfg.AuthBaseURL()+"/sign-in/email", "application/json",
		strings.NewReader(`{"email":"mem@example.com","password":"correct horse battery"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "better-auth.session_token" {
			cookie = c
		}
	}
	if res.StatusCode != http.StatusOK || cookie == nil {
		t.Fatalf("sign-in: %d, cookie %v", res.StatusCode, cookie)
	}
	req, _ := http.NewRequest(http.MethodGet, cfg.AuthBaseURL()+"/get-session", nil)
	req.AddCookie(cookie)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), `"email":"mem@example.com"`) {
		t.Fatalf("get-session: %d %s", res.StatusCode, b)
	}
}

// The plugins are wired from AUTH_JWT_ENABLED and AUTH_BEARER_ENABLED: a
// bearer token authenticates /token, whose JWT names the configured issuer.
func TestAppServesTheTokenPlugins(t *testing.T) {
	cfg := testConfig(t, "AUTH_JWT_ENABLED=true", "AUTH_BEARER_ENABLED=true", "AUTH_JWT_ISSUER=https://id.example.com")
	startApp(t, cfg, memoryStorage)
	cookie := signUp(t, cfg, "plugins@example.com")
	bearer, err := url.QueryUnescape(cookie.Value)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, cfg.AuthBaseURL()+"/token", nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("/token with a bearer: %d %v", res.StatusCode, err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(body.Token, ".")[1])
	if err != nil || !strings.Contains(string(payload), `"iss":"https://id.example.com"`) {
		t.Errorf("JWT payload %s (%v)", payload, err)
	}

	off := testConfig(t)
	startApp(t, off, memoryStorage)
	res, err = http.Get(off.AuthBaseURL() + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("/jwks with the plugin off: %d", res.StatusCode)
	}
}
