package config_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/joho/godotenv"

	"github.com/authd/authd/adapters/config"
)

const (
	secret31 = "0123456789abcdef0123456789abcde"
	secret32 = "0123456789abcdef0123456789abcdef"
)

// validEnv is the smallest environment that passes Validate.
func validEnv(extra ...string) []string {
	return append([]string{"APP_SECRET=" + secret32, "AUTH_BASE_URL=http://localhost:8100/api"}, extra...)
}

// load reads config from env only: the config file is pinned to an empty
// file so that no file in the working directory leaks into the test.
func load(t *testing.T, env []string, opts ...config.Option) (config.Config, error) {
	t.Helper()
	empty := writeFile(t, "empty.yaml", "")
	return config.Load(append([]config.Option{config.WithEnviron(env), config.WithConfigFile(empty)}, opts...)...)
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	c, err := load(t, validEnv())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"app.env", c.App.Env, "development"},
		{"auth.rate_limit_enabled", c.Auth.RateLimitEnabled, true},
		{"auth.rate_limit_storage", c.Auth.RateLimitStorage, "memory"},
		{"auth.revoke_sessions_on_password_reset", c.Auth.RevokeSessionsOnPasswordReset, true},
		{"auth.require_email_verification", c.Auth.RequireEmailVerification, false},
		{"auth.signin_failures_per_network", c.Auth.SignInFailuresPerNetwork, 100},
		{"auth.signin_failures_per_account", c.Auth.SignInFailuresPerAccount, 1000},
		{"http.addr", c.HTTP.Addr, "127.0.0.1:8100"},
		{"http.body_limit", c.HTTP.BodyLimit, 64 << 10},
		{"http.read_timeout", c.HTTP.ReadTimeout, 10 * time.Second},
		{"http.write_timeout", c.HTTP.WriteTimeout, 15 * time.Second},
		{"http.idle_timeout", c.HTTP.IdleTimeout, 60 * time.Second},
		{"http.shutdown_timeout", c.HTTP.ShutdownTimeout, 30 * time.Second},
		{"db.host", c.DB.Host, "localhost"},
		{"db.port", c.DB.Port, 5432},
		{"db.name", c.DB.Name, "authd"},
		{"db.user", c.DB.User, "postgres"},
		{"db.sslmode", c.DB.SSLMode, "disable"},
		{"db.max_open_conns", c.DB.MaxOpenConns, 4 * runtime.GOMAXPROCS(0)},
		{"db.session_lookups", c.DB.SessionLookups, 0},
		{"db.query_timeout", c.DB.QueryTimeout, 3 * time.Second},
		{"db.dial_timeout", c.DB.DialTimeout, 5 * time.Second},
		{"db.prepared_statements", c.DB.PreparedStatements, true},
		{"auth.janitor_interval", c.Auth.JanitorInterval, 10 * time.Minute},
		{"smtp.host", c.SMTP.Host, ""},
		{"smtp.port", c.SMTP.Port, 587},
		{"smtp.from", c.SMTP.From, "authd <no-reply@localhost>"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestEnvironmentNames(t *testing.T) {
	c, err := load(t, []string{
		"APP_ENV=test", "APP_SECRET=" + secret32,
		"AUTH_BASE_URL=https://example.com/api/",
		"AUTH_TRUSTED_ORIGINS=https://a.example.com, https://b.example.com,",
		"AUTH_REQUIRE_EMAIL_VERIFICATION=true", "AUTH_DELETE_USER_ENABLED=1",
		"AUTH_RATE_LIMIT_ENABLED=false", "AUTH_RATE_LIMIT_STORAGE=database",
		"AUTH_REVOKE_SESSIONS_ON_PASSWORD_RESET=false", "AUTH_TRUSTED_PROXIES=10.0.0.0/8,127.0.0.1",
		"AUTH_COOKIE_CACHE_MAX_AGE=5m", "AUTH_COOKIE_CACHE_VERSION=2",
		"AUTH_JWT_ENABLED=true", "AUTH_JWT_ISSUER=https://id.example.com", "AUTH_JWT_AUDIENCE=orders",
		"AUTH_JWT_EXPIRATION=5m", "AUTH_JWKS_ROTATION_INTERVAL=168h", "AUTH_JWKS_GRACE_PERIOD=24h", "AUTH_BEARER_ENABLED=true",
		"AUTH_SIGNIN_FAILURES_PER_NETWORK=7", "AUTH_SIGNIN_FAILURES_PER_ACCOUNT=70",
		"HTTP_ADDR=:9000", "HTTP_BODY_LIMIT=1024", "HTTP_READ_TIMEOUT=1s", "HTTP_WRITE_TIMEOUT=2s",
		"HTTP_IDLE_TIMEOUT=3s", "HTTP_SHUTDOWN_TIMEOUT=4s",
		"DB_HOST=db", "DB_PORT=6543", "DB_NAME=n", "DB_USER=u", "DB_PASSWORD=pw", "DB_SSLMODE=verify-full",
		"DB_MAX_OPEN_CONNS=7", "DB_SESSION_LOOKUPS=3", "DB_QUERY_TIMEOUT=250ms", "DB_DIAL_TIMEOUT=2s",
		"DB_PREPARED_STATEMENTS=false",
		"AUTH_JANITOR_INTERVAL=1m",
		"SMTP_HOST=mail", "SMTP_PORT=25", "SMTP_USERNAME=mu", "SMTP_PASSWORD=mp", "SMTP_FROM=x@example.com",
		// Platforms set variables of their own; they must not break start-up.
		"PATH=/bin", "APP_UNKNOWN=1", "AUTH=1", "KUBERNETES_SERVICE_HOST=10.0.0.1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := config.Config{
		App: config.App{Env: "test", Secret: secret32},
		Auth: config.Auth{BaseURL: "https://example.com/api/",
			TrustedOrigins:           []string{"https://a.example.com", "https://b.example.com"},
			RequireEmailVerification: true, DeleteUserEnabled: true, RateLimitEnabled: false,
			RateLimitStorage: "database", RevokeSessionsOnPasswordReset: false,
			TrustedProxies: []string{"10.0.0.0/8", "127.0.0.1"}, CookieCacheMaxAge: 5 * time.Minute, CookieCacheVersion: "2",
			JWTEnabled: true, JWTIssuer: "https://id.example.com", JWTAudience: "orders", JWTExpiration: 5 * time.Minute,
			JWKSRotationInterval: 168 * time.Hour, JWKSGracePeriod: 24 * time.Hour, BearerEnabled: true,
			JanitorInterval:          time.Minute,
			SignInFailuresPerNetwork: 7, SignInFailuresPerAccount: 70},
		HTTP: config.HTTP{Addr: ":9000", BodyLimit: 1024, ReadTimeout: time.Second, WriteTimeout: 2 * time.Second,
			IdleTimeout: 3 * time.Second, ShutdownTimeout: 4 * time.Second},
		DB: config.DB{Host: "db", Port: 6543, Name: "n", User: "u", Password: "pw", SSLMode: "verify-full",
			MaxOpenConns: 7, SessionLookups: 3, QueryTimeout: 250 * time.Millisecond, DialTimeout: 2 * time.Second,
			PreparedStatements: false},
		SMTP: config.SMTP{Host: "mail", Port: 25, Username: "mu", Password: "mp", From: "x@example.com"},
	}
	// Compare by JSON with secrets revealed, so that every field is covered.
	if got, w := dump(c), dump(want); got != w {
		t.Errorf("loaded\n%s\nwant\n%s", got, w)
	}
	if c.AuthBaseURL() != "https://example.com/api/auth" || c.AuthBasePath() != "/api/auth" || c.Origin() != "https://example.com" {
		t.Errorf("helpers: %q %q %q", c.AuthBaseURL(), c.AuthBasePath(), c.Origin())
	}
	if c.JWTIssuer() != "https://id.example.com" || c.JWTAudience() != "orders" {
		t.Errorf("JWT issuer %q, audience %q: want the configured ones", c.JWTIssuer(), c.JWTAudience())
	}
}

// better-auth's jwt plugin defaults iss and aud to the base URL's origin
// (without the API path), and signs for 15 minutes.
func TestJWTDefaults(t *testing.T) {
	t.Parallel()
	c, err := load(t, validEnv("AUTH_BASE_URL=https://ID.example.com:443/api"))
	if err != nil {
		t.Fatal(err)
	}
	if c.JWTIssuer() != "https://id.example.com" || c.JWTAudience() != "https://id.example.com" ||
		c.Auth.JWTExpiration != 15*time.Minute || c.Auth.JWTEnabled || c.Auth.BearerEnabled ||
		c.Auth.JWKSRotationInterval != 0 || c.Auth.JWKSGracePeriod != 30*24*time.Hour {
		t.Errorf("defaults: iss %q aud %q, %+v", c.JWTIssuer(), c.JWTAudience(), c.Auth)
	}
}

func dump(c config.Config) string {
	type revealed struct {
		C                    config.Config
		Secret, DBPW, SMTPPW string
	}
	b, _ := json.MarshalIndent(revealed{c, c.App.Secret.Reveal(), c.DB.Password.Reveal(), c.SMTP.Password.Reveal()}, "", " ")
	return string(b)
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want []string // substrings, all of which must appear; none means valid
	}{
		{"valid", validEnv(), nil},
		{"secret of 32 characters", []string{"APP_SECRET=" + secret32, "AUTH_BASE_URL=http://localhost:8100/api"}, nil},
		{"secret of 31 characters", []string{"APP_SECRET=" + secret31, "AUTH_BASE_URL=http://localhost:8100/api"},
			[]string{"APP_SECRET must be at least 32 characters"}},
		{"missing secret", []string{"AUTH_BASE_URL=http://localhost:8100/api"}, []string{"APP_SECRET is required"}},
		{"example secret", []string{"APP_SECRET=" + config.ExampleSecret, "AUTH_BASE_URL=http://localhost:8100/api"},
			[]string{"APP_SECRET must not be the example value"}},
		{"missing base url", []string{"APP_SECRET=" + secret32}, []string{"AUTH_BASE_URL is required"}},
		{"relative base url", validEnv("AUTH_BASE_URL=/api"), []string{"AUTH_BASE_URL must be an absolute http(s) URL"}},
		{"ftp base url", validEnv("AUTH_BASE_URL=ftp://example.com/api"), []string{"AUTH_BASE_URL must be an absolute http(s) URL"}},
		{"base url with query", validEnv("AUTH_BASE_URL=https://example.com/api?x=1"), []string{"AUTH_BASE_URL must be an absolute http(s) URL"}},
		{"base url with fragment", validEnv("AUTH_BASE_URL=https://example.com/api#x"), []string{"AUTH_BASE_URL must be an absolute http(s) URL"}},
		{"unparsable base url", validEnv("AUTH_BASE_URL=http://exa mple.com"), []string{"AUTH_BASE_URL must be an absolute http(s) URL"}},
		{"db port zero", validEnv("DB_PORT=0"), []string{"DB_PORT must be between 1 and 65535"}},
		{"db port too big", validEnv("DB_PORT=65536"), []string{"DB_PORT must be between 1 and 65535"}},
		{"smtp port negative", validEnv("SMTP_PORT=-1"), []string{"SMTP_PORT must be between 1 and 65535"}},
		{"bad sslmode", validEnv("DB_SSLMODE=prefer"), []string{"DB_SSLMODE must be disable, require or verify-full"}},
		{"wildcard origin", validEnv("AUTH_TRUSTED_ORIGINS=https://a.example.com,*"), []string{`AUTH_TRUSTED_ORIGINS must not contain "*"`}},
		{"bad trusted proxy", validEnv("AUTH_TRUSTED_PROXIES=10.0.0.0/33"), []string{"AUTH_TRUSTED_PROXIES"}},
		{"bad env", validEnv("APP_ENV=staging"), []string{"APP_ENV must be one of"}},
		{"bad rate limit storage", validEnv("AUTH_RATE_LIMIT_STORAGE=redis"), []string{"AUTH_RATE_LIMIT_STORAGE must be memory or database"}},
		{"session lookups above the pool", validEnv("DB_MAX_OPEN_CONNS=2", "DB_SESSION_LOOKUPS=3"), []string{"DB_SESSION_LOOKUPS must be 0 (auto) or between 1 and DB_MAX_OPEN_CONNS"}},
		{"fractional cookie cache age", validEnv("AUTH_COOKIE_CACHE_MAX_AGE=1500ms"), []string{"AUTH_COOKIE_CACHE_MAX_AGE must be 0 (off) or whole seconds"}},
		{"negative cookie cache age", validEnv("AUTH_COOKIE_CACHE_MAX_AGE=-5s"), []string{"AUTH_COOKIE_CACHE_MAX_AGE must be 0 (off) or whole seconds"}},
		{"fractional JWT lifetime", validEnv("AUTH_JWT_EXPIRATION=1500ms"), []string{"AUTH_JWT_EXPIRATION must be whole seconds"}},
		{"zero JWT lifetime", validEnv("AUTH_JWT_EXPIRATION=0s"), []string{"AUTH_JWT_EXPIRATION must be whole seconds, at least 1s"}},
		{"negative key rotation", validEnv("AUTH_JWKS_ROTATION_INTERVAL=-1h"), []string{"AUTH_JWKS_ROTATION_INTERVAL must be 0 (never) or whole seconds"}},
		{"fractional grace period", validEnv("AUTH_JWKS_GRACE_PERIOD=1.5s"), []string{"AUTH_JWKS_GRACE_PERIOD must be whole seconds"}},
		{"negative janitor interval", validEnv("AUTH_JANITOR_INTERVAL=-1m"), []string{"AUTH_JANITOR_INTERVAL must be 0 (off) or positive"}},
		{"production over http", validEnv("APP_ENV=production"), []string{"AUTH_BASE_URL must use https when APP_ENV is production"}},
		{"production over https", validEnv("APP_ENV=production", "AUTH_BASE_URL=https://example.com/api"), nil},
		{"production without rate limit", validEnv("APP_ENV=production", "AUTH_BASE_URL=https://example.com/api", "AUTH_RATE_LIMIT_ENABLED=false"),
			[]string{"AUTH_RATE_LIMIT_ENABLED must not be false when APP_ENV is production"}},
		{"development without rate limit", validEnv("AUTH_RATE_LIMIT_ENABLED=false"), nil},
		{"zero timeout", validEnv("DB_QUERY_TIMEOUT=0s"), []string{"DB_QUERY_TIMEOUT must be a positive duration"}},
		{"bad from", validEnv("SMTP_FROM=not an address"), []string{"SMTP_FROM must be a mail address"}},
		{"no failures per network", validEnv("AUTH_SIGNIN_FAILURES_PER_NETWORK=0"), []string{"AUTH_SIGNIN_FAILURES_PER_NETWORK must be a positive number"}},
		{"negative failures per account", validEnv("AUTH_SIGNIN_FAILURES_PER_ACCOUNT=-1"), []string{"AUTH_SIGNIN_FAILURES_PER_ACCOUNT must be a positive number"}},
		{"every problem at once",
			[]string{"APP_SECRET=short", "DB_PORT=70000", "SMTP_PORT=0", "DB_SSLMODE=allow", "AUTH_TRUSTED_ORIGINS=*"},
			[]string{"APP_SECRET must be at least 32 characters", "AUTH_BASE_URL is required", "DB_PORT must be",
				"SMTP_PORT must be", "DB_SSLMODE must be", `AUTH_TRUSTED_ORIGINS must not contain "*"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := load(t, tt.env)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			err = c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate passed, want errors %q", tt.want)
			}
			t.Log(err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if n := len(strings.Split(err.Error(), "\n")); n != len(tt.want) {
				t.Errorf("got %d problems, want %d: %v", n, len(tt.want), err)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		file string // config file content; "" means none
		env  []string
		want []string
	}{
		{"unknown file key", "auth:\n  base_urll: http://x\n", validEnv(), []string{`unknown key "auth.base_urll"`}},
		{"unknown file section", "cookies:\n  secure: false\n", validEnv(), []string{`unknown key "cookies.secure"`}},
		{"several unknown file keys", "app:\n  secret_key: x\nhttp:\n  port: 1\n", validEnv(),
			[]string{`unknown key "app.secret_key"`, `unknown key "http.port"`}},
		{"bad port in file", "db:\n  port: abc\n", validEnv(), []string{"DB_PORT (db.port)"}},
		{"bare number duration in file", "db:\n  query_timeout: 3\n", validEnv(), []string{"DB_QUERY_TIMEOUT (db.query_timeout)", "unit"}},
		{"bad port in env", "", validEnv("DB_PORT=abc"), []string{"DB_PORT (db.port)"}},
		{"bad duration in env", "", validEnv("HTTP_READ_TIMEOUT=10"), []string{"HTTP_READ_TIMEOUT (http.read_timeout)"}},
		{"bad bool in env", "", validEnv("AUTH_RATE_LIMIT_ENABLED=maybe"), []string{"AUTH_RATE_LIMIT_ENABLED (auth.rate_limit_enabled)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := []config.Option{config.WithEnviron(tt.env), config.WithConfigFile(writeFile(t, "c.yaml", tt.file))}
			_, err := config.Load(opts...)
			if err == nil {
				t.Fatalf("Load passed, want %q", tt.want)
			}
			t.Log(err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestConfigFile(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "c.yaml", "db:\n  host: filehost\n  port: 6000\nauth:\n  trusted_origins: [https://a.example.com]\n")

	c, err := config.Load(config.WithEnviron(validEnv("DB_PORT=7000")), config.WithConfigFile(path))
	if err != nil {
		t.Fatal(err)
	}
	if c.DB.Host != "filehost" || c.DB.Port != 7000 || !slices.Equal(c.Auth.TrustedOrigins, []string{"https://a.example.com"}) {
		t.Errorf("file < env precedence broken: host %q port %d origins %v", c.DB.Host, c.DB.Port, c.Auth.TrustedOrigins)
	}

	// CONFIG_FILE names the file when no option does.
	c, err = config.Load(config.WithEnviron(validEnv("CONFIG_FILE=" + path)))
	if err != nil || c.DB.Host != "filehost" {
		t.Errorf("CONFIG_FILE ignored: host %q, err %v", c.DB.Host, err)
	}

	// A file named explicitly must exist: a typo must not silently fall back.
	if _, err := config.Load(config.WithEnviron(validEnv()), config.WithConfigFile(filepath.Join(t.TempDir(), "nope.yaml"))); err == nil {
		t.Error("missing explicit config file accepted")
	}
	if _, err := config.Load(config.WithEnviron(validEnv("CONFIG_FILE=/nonexistent/authd.yaml"))); err == nil {
		t.Error("missing CONFIG_FILE accepted")
	}
}

// The shipped file must load (no unknown keys) and keep the built-in defaults.
func TestShippedConfigFile(t *testing.T) {
	t.Parallel()
	fromFile, err := config.Load(config.WithEnviron(validEnv()), config.WithConfigFile("../../configs/config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	builtIn, err := load(t, validEnv())
	if err != nil {
		t.Fatal(err)
	}
	if dump(fromFile) != dump(builtIn) {
		t.Errorf("configs/config.yaml disagrees with the built-in defaults:\n%s\nvs\n%s", dump(fromFile), dump(builtIn))
	}
}

// .env.example must document exactly the variables Load understands.
func TestEnvExampleDocumentsEveryKey(t *testing.T) {
	t.Parallel()
	documented, err := godotenv.Read("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"APP_ENV", "APP_SECRET",
		"AUTH_BASE_URL", "AUTH_TRUSTED_ORIGINS", "AUTH_REQUIRE_EMAIL_VERIFICATION", "AUTH_DELETE_USER_ENABLED",
		"AUTH_RATE_LIMIT_ENABLED", "AUTH_RATE_LIMIT_STORAGE", "AUTH_REVOKE_SESSIONS_ON_PASSWORD_RESET", "AUTH_TRUSTED_PROXIES",
		"AUTH_COOKIE_CACHE_MAX_AGE", "AUTH_COOKIE_CACHE_VERSION",
		"AUTH_JWT_ENABLED", "AUTH_JWT_ISSUER", "AUTH_JWT_AUDIENCE", "AUTH_JWT_EXPIRATION",
		"AUTH_JWKS_ROTATION_INTERVAL", "AUTH_JWKS_GRACE_PERIOD", "AUTH_BEARER_ENABLED",
		"AUTH_SIGNIN_FAILURES_PER_NETWORK", "AUTH_SIGNIN_FAILURES_PER_ACCOUNT",
		"HTTP_ADDR", "HTTP_BODY_LIMIT", "HTTP_READ_TIMEOUT", "HTTP_WRITE_TIMEOUT", "HTTP_IDLE_TIMEOUT", "HTTP_SHUTDOWN_TIMEOUT",
		"DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD", "DB_SSLMODE", "DB_MAX_OPEN_CONNS", "DB_SESSION_LOOKUPS", "DB_QUERY_TIMEOUT", "DB_DIAL_TIMEOUT",
		"SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_FROM",
		"DB_PREPARED_STATEMENTS",
		"AUTH_JANITOR_INTERVAL",
	}
	var got []string
	for k := range documented {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf(".env.example documents %v\nwant %v", got, want)
	}
	if documented["AUTH_BASE_URL"] != "http://localhost:8100/api" {
		t.Errorf("AUTH_BASE_URL example = %q", documented["AUTH_BASE_URL"])
	}

	// Every documented variable must reach the config: set each to a value
	// that differs from the default and check the loaded config changed.
	base, err := load(t, validEnv())
	if err != nil {
		t.Fatal(err)
	}
	samples := map[string]string{
		"APP_ENV": "test", "APP_SECRET": strings.Repeat("s", 40), "AUTH_BASE_URL": "https://x.example.com",
		"AUTH_TRUSTED_ORIGINS": "https://o.example.com", "AUTH_REQUIRE_EMAIL_VERIFICATION": "true",
		"AUTH_DELETE_USER_ENABLED": "true", "AUTH_RATE_LIMIT_ENABLED": "false", "AUTH_RATE_LIMIT_STORAGE": "database",
		"AUTH_REVOKE_SESSIONS_ON_PASSWORD_RESET": "false", "AUTH_TRUSTED_PROXIES": "10.0.0.1",
		"AUTH_COOKIE_CACHE_MAX_AGE": "5m", "AUTH_COOKIE_CACHE_VERSION": "2",
		"AUTH_JWT_ENABLED": "true", "AUTH_JWT_ISSUER": "https://iss.example.com", "AUTH_JWT_AUDIENCE": "api",
		"AUTH_JWT_EXPIRATION": "1h", "AUTH_JWKS_ROTATION_INTERVAL": "24h", "AUTH_JWKS_GRACE_PERIOD": "1h",
		"AUTH_BEARER_ENABLED":              "true",
		"AUTH_SIGNIN_FAILURES_PER_NETWORK": "7", "AUTH_SIGNIN_FAILURES_PER_ACCOUNT": "70",
		"HTTP_ADDR": ":1", "HTTP_BODY_LIMIT": "1", "HTTP_READ_TIMEOUT": "1s", "HTTP_WRITE_TIMEOUT": "1s",
		"HTTP_IDLE_TIMEOUT": "1s", "HTTP_SHUTDOWN_TIMEOUT": "1s", "DB_HOST": "h", "DB_PORT": "1", "DB_NAME": "n",
		"DB_USER": "u", "DB_PASSWORD": "p", "DB_SSLMODE": "require", "DB_MAX_OPEN_CONNS": "1", "DB_SESSION_LOOKUPS": "1", "DB_QUERY_TIMEOUT": "1s",
		"DB_DIAL_TIMEOUT": "1s", "SMTP_HOST": "m", "SMTP_PORT": "1", "SMTP_USERNAME": "u", "SMTP_PASSWORD": "p",
		"SMTP_FROM":              "a@b.cd",
		"DB_PREPARED_STATEMENTS": "false",
		"AUTH_JANITOR_INTERVAL":  "1m",
	}
	for _, name := range want {
		c, err := load(t, validEnv(name+"="+samples[name]))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if dump(c) == dump(base) {
			t.Errorf("%s=%s did not change the config", name, samples[name])
		}
	}
}

func TestDotenv(t *testing.T) {
	t.Parallel()
	dotenv := writeFile(t, ".env", "DB_HOST=fromdotenv\nDB_NAME=fromdotenv\nAPP_SECRET="+secret32+"\n")

	c, err := load(t, []string{"AUTH_BASE_URL=http://localhost:8100/api", "DB_NAME=fromenv"}, config.WithDotenv(dotenv))
	if err != nil {
		t.Fatal(err)
	}
	if c.DB.Host != "fromdotenv" || c.DB.Name != "fromenv" || c.App.Secret.Reveal() != secret32 {
		t.Errorf("development: host %q name %q; want the .env value under the process env", c.DB.Host, c.DB.Name)
	}

	for _, env := range []string{"production", "test"} {
		c, err := load(t, []string{"APP_ENV=" + env}, config.WithDotenv(dotenv))
		if err != nil {
			t.Fatal(err)
		}
		if c.DB.Host != "localhost" || c.App.Secret.Reveal() != "" {
			t.Errorf("%s read .env: host %q", env, c.DB.Host)
		}
	}

	// The process environment is untouched.
	if _, ok := os.LookupEnv("DB_HOST"); ok && os.Getenv("DB_HOST") == "fromdotenv" {
		t.Error("Load wrote the .env values into the process environment")
	}

	if _, err := load(t, validEnv(), config.WithDotenv(filepath.Join(t.TempDir(), "missing.env"))); err == nil {
		t.Error("missing explicit .env accepted")
	}
}

func TestEmptyEnvironmentValueIsUnset(t *testing.T) {
	t.Parallel()
	c, err := load(t, validEnv("DB_PORT=", "HTTP_ADDR="))
	if err != nil {
		t.Fatal(err)
	}
	if c.DB.Port != 5432 || c.HTTP.Addr != "127.0.0.1:8100" {
		t.Errorf("empty values overrode defaults: port %d addr %q", c.DB.Port, c.HTTP.Addr)
	}
}

func TestHelpers(t *testing.T) {
	tests := []struct {
		base, authURL, path, origin string
	}{
		{"http://localhost:8100/api", "http://localhost:8100/api/auth", "/api/auth", "http://localhost:8100"},
		{"https://Example.COM:443/api/", "https://Example.COM:443/api/auth", "/api/auth", "https://example.com"},
		{"http://example.com:80", "http://example.com:80/auth", "/auth", "http://example.com"},
		{"https://example.com:8443/v1/api", "https://example.com:8443/v1/api/auth", "/v1/api/auth", "https://example.com:8443"},
		{"http://[::1]:8100/api", "http://[::1]:8100/api/auth", "/api/auth", "http://[::1]:8100"},
	}
	for _, tt := range tests {
		c := config.Config{Auth: config.Auth{BaseURL: tt.base}}
		if got := c.AuthBaseURL(); got != tt.authURL {
			t.Errorf("AuthBaseURL(%s) = %q, want %q", tt.base, got, tt.authURL)
		}
		if got := c.AuthBasePath(); got != tt.path {
			t.Errorf("AuthBasePath(%s) = %q, want %q", tt.base, got, tt.path)
		}
		if got := c.Origin(); got != tt.origin {
			t.Errorf("Origin(%s) = %q, want %q", tt.base, got, tt.origin)
		}
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	t.Parallel()
	const appSecret, dbPW, smtpPW = "app-secret-canary-0123456789abcdef", "db-pw-canary", "smtp-pw-canary"
	c, err := load(t, validEnv("APP_SECRET="+appSecret, "DB_PASSWORD="+dbPW, "SMTP_PASSWORD="+smtpPW))
	if err != nil {
		t.Fatal(err)
	}
	if c.App.Secret.Reveal() != appSecret || c.DB.Password.Reveal() != dbPW || c.SMTP.Password.Reveal() != smtpPW {
		t.Fatal("secrets not loaded")
	}

	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		fmt.Fprintf(&out, verb+"\n", c)
		fmt.Fprintf(&out, verb+"\n", c.App.Secret)
		fmt.Fprintf(&out, verb+"\n", &c)
	}
	fmt.Fprintln(&out, c.DB, c.SMTP.Password)
	slog.New(slog.NewTextHandler(&out, nil)).Info("cfg", "config", c, "secret", c.App.Secret, "db", c.DB)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("cfg", "config", c, "secret", c.App.Secret, "db", c.DB)
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	out.Write(b)

	for _, s := range []string{appSecret, dbPW, smtpPW} {
		if strings.Contains(out.String(), s) {
			t.Errorf("secret %q printed:\n%s", s, out.String())
		}
	}
	if !strings.Contains(out.String(), "[redacted]") {
		t.Error("no [redacted] marker in output")
	}
}
