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

// validEnv is the smallest environment that passes Validate in
// development; extra may name another APP_ENV.
func validEnv(extra ...string) []string {
	env := []string{"APP_SECRET=" + secret32, "AUTH_BASE_URL=http://localhost:8100/api"}
	if !slices.ContainsFunc(extra, func(kv string) bool { return strings.HasPrefix(kv, "APP_ENV=") }) {
		env = append(env, "APP_ENV=development")
	}
	return append(env, extra...)
}

// prodEnv is the smallest environment that passes Validate in production.
func prodEnv(extra ...string) []string {
	return append(validEnv("APP_ENV=production", "AUTH_BASE_URL=https://example.com/api", "SMTP_HOST=smtp.example.com"), extra...)
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
		{"app.env", c.App.Env, "development"}, // validEnv's; TestProductionIsTheDefault covers the default
		{"auth.rate_limit_enabled", c.Auth.RateLimitEnabled, true},
		{"auth.rate_limit_storage", c.Auth.RateLimitStorage, "memory"},
		{"auth.rate_limit_window", c.Auth.RateLimitWindow, 10 * time.Second},
		{"auth.rate_limit_max", c.Auth.RateLimitMax, 100},
		{"auth.revoke_sessions_on_password_reset", c.Auth.RevokeSessionsOnPasswordReset, true},
		{"auth.delete_user_confirm_by_email", c.Auth.DeleteUserConfirmByEmail, true},
		{"auth.require_email_verification", c.Auth.RequireEmailVerification, false},
		{"auth.signin_failures_per_network", c.Auth.SignInFailuresPerNetwork, 100},
		{"auth.signin_failures_per_account", c.Auth.SignInFailuresPerAccount, 1000},
		{"http.addr", c.HTTP.Addr, "127.0.0.1:8100"},
		{"http.body_limit", c.HTTP.BodyLimit, 64 << 10},
		{"http.read_timeout", c.HTTP.ReadTimeout, 10 * time.Second},
		{"http.write_timeout", c.HTTP.WriteTimeout, 15 * time.Second},
		{"http.idle_timeout", c.HTTP.IdleTimeout, 60 * time.Second},
		{"http.max_conns", c.HTTP.MaxConns, 4096},
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
		{"smtp.port", c.SMTP.Port, 0},
		{"smtp.tls", c.SMTP.TLS, "starttls"},
		{"smtp.workers", c.SMTP.Workers, 4},
		{"smtp.queue_size", c.SMTP.QueueSize, 1024},
		{"smtp.send_timeout", c.SMTP.SendTimeout, 15 * time.Second},
		{"auth.password_hash_concurrency", c.Auth.PasswordHashConcurrency, 0},
		{"auth.password_hash_queue", c.Auth.PasswordHashQueue, 0},
		{"auth.two_factor_enabled", c.Auth.TwoFactorEnabled, false},
		{"auth.two_factor_issuer", c.Auth.TwoFactorIssuer, "Better Auth"},
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
		"AUTH_DELETE_USER_CONFIRM_BY_EMAIL=false",
		"AUTH_RATE_LIMIT_ENABLED=false", "AUTH_RATE_LIMIT_STORAGE=database", "AUTH_RATE_LIMIT_WINDOW=1m", "AUTH_RATE_LIMIT_MAX=50",
		"AUTH_REVOKE_SESSIONS_ON_PASSWORD_RESET=false", "AUTH_TRUSTED_PROXIES=10.0.0.0/8,127.0.0.1",
		"AUTH_COOKIE_CACHE_MAX_AGE=5m", "AUTH_COOKIE_CACHE_VERSION=2",
		"AUTH_JWT_ENABLED=true", "AUTH_JWT_ISSUER=https://id.example.com", "AUTH_JWT_AUDIENCE=orders",
		"AUTH_JWT_EXPIRATION=5m", "AUTH_JWKS_ROTATION_INTERVAL=168h", "AUTH_JWKS_GRACE_PERIOD=24h", "AUTH_BEARER_ENABLED=true",
		"AUTH_SIGNIN_FAILURES_PER_NETWORK=7", "AUTH_SIGNIN_FAILURES_PER_ACCOUNT=70",
		"HTTP_ADDR=:9000", "HTTP_BODY_LIMIT=1024", "HTTP_READ_TIMEOUT=1s", "HTTP_WRITE_TIMEOUT=2s",
		"HTTP_IDLE_TIMEOUT=3s", "HTTP_SHUTDOWN_TIMEOUT=4s", "HTTP_MAX_CONNS=5",
		"DB_HOST=db", "DB_PORT=6543", "DB_NAME=n", "DB_USER=u", "DB_PASSWORD=pw", "DB_SSLMODE=verify-full",
		"DB_MAX_OPEN_CONNS=7", "DB_SESSION_LOOKUPS=3", "DB_QUERY_TIMEOUT=250ms", "DB_DIAL_TIMEOUT=2s",
		"DB_PREPARED_STATEMENTS=false",
		"AUTH_JANITOR_INTERVAL=1m",
		"SMTP_HOST=mail", "SMTP_PORT=25", "SMTP_TLS=tls", "SMTP_USERNAME=mu", "SMTP_PASSWORD=mp", "SMTP_FROM=x@example.com",
		"SMTP_WORKERS=2", "SMTP_QUEUE_SIZE=8", "SMTP_SEND_TIMEOUT=9s",
		"AUTH_PASSWORD_HASH_CONCURRENCY=3", "AUTH_PASSWORD_HASH_QUEUE=5",
		"AUTH_OAUTH_PROVIDERS=corp-sso", "AUTH_OAUTH_TIMEOUT=4s", "AUTH_ACCOUNT_LINKING_ENABLED=false",
		"AUTH_ACCOUNT_LINKING_TRUSTED_PROVIDERS=corp-sso,github", "AUTH_ACCOUNT_LINKING_ALLOW_DIFFERENT_EMAILS=true",
		"AUTH_ACCOUNT_LINKING_ALLOW_UNLINKING_ALL=true", "AUTH_ENCRYPT_OAUTH_TOKENS=true",
		"AUTH_OAUTH_CORP_SSO_CLIENT_ID=cid", "AUTH_OAUTH_CORP_SSO_CLIENT_SECRET=cs",
		"AUTH_OAUTH_CORP_SSO_AUTHORIZATION_URL=https://sso.example.com/a", "AUTH_OAUTH_CORP_SSO_TOKEN_URL=https://sso.example.com/t",
		"AUTH_OAUTH_CORP_SSO_USER_INFO_URL=https://sso.example.com/u", "AUTH_OAUTH_CORP_SSO_SCOPES=a b,c", "AUTH_OAUTH_CORP_SSO_PKCE=false",
		"AUTH_SOCIAL_GITHUB_CLIENT_ID=gh", "AUTH_SOCIAL_GITHUB_CLIENT_SECRET=ghs", "AUTH_SOCIAL_GITHUB_BASE_URL=https://ghe.example.com",
		"AUTH_TWO_FACTOR_ENABLED=true", "AUTH_TWO_FACTOR_ISSUER=Example",
		"AUTH_SECONDARY_STORAGE=redis", "REDIS_URL=redis://:pw@r:6380/2", "AUTH_STORE_SESSION_IN_DATABASE=true",
		"METRICS_ADDR=127.0.0.1:9100",
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
			RequireEmailVerification: true, DeleteUserEnabled: true, DeleteUserConfirmByEmail: false, RateLimitEnabled: false,
			RateLimitStorage: "database", RateLimitWindow: time.Minute, RateLimitMax: 50, RevokeSessionsOnPasswordReset: false,
			TrustedProxies: []string{"10.0.0.0/8", "127.0.0.1"}, CookieCacheMaxAge: 5 * time.Minute, CookieCacheVersion: "2",
			JWTEnabled: true, JWTIssuer: "https://id.example.com", JWTAudience: "orders", JWTExpiration: 5 * time.Minute,
			JWKSRotationInterval: 168 * time.Hour, JWKSGracePeriod: 24 * time.Hour, BearerEnabled: true,
			JanitorInterval:          time.Minute,
			SignInFailuresPerNetwork: 7, SignInFailuresPerAccount: 70,
			PasswordHashConcurrency: 3, PasswordHashQueue: 5,
			OAuthProviders: []string{"corp-sso"}, OAuthTimeout: 4 * time.Second, AccountLinkingEnabled: false,
			AccountLinkingTrustedProviders: []string{"corp-sso", "github"}, AccountLinkingAllowDifferentEmails: true,
			AccountLinkingAllowUnlinkingAll: true, EncryptOAuthTokens: true,
			TwoFactorEnabled: true, TwoFactorIssuer: "Example",
			SecondaryStorage: "redis", StoreSessionInDatabase: true},
		Redis:   config.Redis{URL: "redis://:pw@r:6380/2"},
		Metrics: config.Metrics{Addr: "127.0.0.1:9100"},
		HTTP: config.HTTP{Addr: ":9000", BodyLimit: 1024, ReadTimeout: time.Second, WriteTimeout: 2 * time.Second,
			IdleTimeout: 3 * time.Second, ShutdownTimeout: 4 * time.Second, MaxConns: 5},
		DB: config.DB{Host: "db", Port: 6543, Name: "n", User: "u", Password: "pw", SSLMode: "verify-full",
			MaxOpenConns: 7, SessionLookups: 3, QueryTimeout: 250 * time.Millisecond, DialTimeout: 2 * time.Second,
			PreparedStatements: false},
		SMTP: config.SMTP{Host: "mail", Port: 25, TLS: "tls", Username: "mu", Password: "mp", From: "x@example.com",
			Workers: 2, QueueSize: 8, SendTimeout: 9 * time.Second},
	}
	wantOAuth := config.OAuthProviders{
		Generic: []config.GenericOAuth{{ID: "corp-sso", ClientID: "cid", ClientSecret: "cs",
			AuthorizationURL: "https://sso.example.com/a", TokenURL: "https://sso.example.com/t", UserInfoURL: "https://sso.example.com/u",
			Scopes: []string{"a", "b", "c"}, PKCE: false}},
		Builtin: []config.BuiltinOAuth{{Name: "github", ClientID: "gh", ClientSecret: "ghs", BaseURL: "https://ghe.example.com"}},
	}
	if fmt.Sprintf("%+v", c.OAuth) != fmt.Sprintf("%+v", wantOAuth) || c.OAuth.Generic[0].ClientSecret.Reveal() != "cs" {
		t.Errorf("oauth providers\n%+v\nwant\n%+v", c.OAuth, wantOAuth)
	}
	c.OAuth = config.OAuthProviders{}
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
		RedisURL             string
	}
	b, _ := json.MarshalIndent(revealed{c, c.App.Secret.Reveal(), c.DB.Password.Reveal(), c.SMTP.Password.Reveal(),
		c.Redis.URL.Reveal()}, "", " ")
	return string(b)
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want []string // substrings, all of which must appear; none means valid
	}{
		{"valid", validEnv(), nil},
		{"secret of 32 characters", []string{"APP_ENV=development", "APP_SECRET=" + secret32, "AUTH_BASE_URL=http://localhost:8100/api"}, nil},
		{"secret of 31 characters", []string{"APP_ENV=development", "APP_SECRET=" + secret31, "AUTH_BASE_URL=http://localhost:8100/api"},
			[]string{"APP_SECRET must be at least 32 characters"}},
		{"missing secret", []string{"APP_ENV=development", "AUTH_BASE_URL=http://localhost:8100/api"}, []string{"APP_SECRET is required"}},
		{"example secret", []string{"APP_ENV=development", "APP_SECRET=" + config.ExampleSecret, "AUTH_BASE_URL=http://localhost:8100/api"},
			[]string{"APP_SECRET must not be the example value"}},
		{"missing base url", []string{"APP_ENV=development", "APP_SECRET=" + secret32}, []string{"AUTH_BASE_URL is required"}},
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
		{"bad rate limit storage", validEnv("AUTH_RATE_LIMIT_STORAGE=redis"), []string{"AUTH_RATE_LIMIT_STORAGE must be memory, database or secondary-storage"}},
		{"rate limit window under a second", validEnv("AUTH_RATE_LIMIT_WINDOW=500ms"), []string{"AUTH_RATE_LIMIT_WINDOW must be a whole number of seconds"}},
		{"rate limit window of 1.5 s", validEnv("AUTH_RATE_LIMIT_WINDOW=1500ms"), []string{"AUTH_RATE_LIMIT_WINDOW must be a whole number of seconds"}},
		{"rate limit max zero", validEnv("AUTH_RATE_LIMIT_MAX=0"), []string{"AUTH_RATE_LIMIT_MAX must be at least 1"}},
		{"rate limit of 5 per minute", validEnv("AUTH_RATE_LIMIT_WINDOW=1m", "AUTH_RATE_LIMIT_MAX=5"), nil},
		{"secondary-storage limits without redis", validEnv("AUTH_RATE_LIMIT_STORAGE=secondary-storage"), []string{"needs AUTH_SECONDARY_STORAGE=redis"}},
		{"redis without url", validEnv("AUTH_SECONDARY_STORAGE=redis"), []string{"REDIS_URL is required"}},
		{"bad secondary storage", validEnv("AUTH_SECONDARY_STORAGE=memcached"), []string{"AUTH_SECONDARY_STORAGE must be redis or empty"}},
		{"bad redis url", validEnv("AUTH_SECONDARY_STORAGE=redis", "REDIS_URL=http://x"), []string{"REDIS_URL must be a redis://"}},
		{"sessions only in redis", validEnv("AUTH_SECONDARY_STORAGE=redis", "REDIS_URL=redis://r:6379/0", "AUTH_STORE_SESSION_IN_DATABASE=false"), nil},
		{"bad metrics addr", validEnv("METRICS_ADDR=9100"), []string{"METRICS_ADDR must be host:port"}},
		{"session lookups above the pool", validEnv("DB_MAX_OPEN_CONNS=2", "DB_SESSION_LOOKUPS=3"), []string{"DB_SESSION_LOOKUPS must be 0 (auto) or between 1 and DB_MAX_OPEN_CONNS"}},
		{"fractional cookie cache age", validEnv("AUTH_COOKIE_CACHE_MAX_AGE=1500ms"), []string{"AUTH_COOKIE_CACHE_MAX_AGE must be 0 (off) or whole seconds"}},
		{"negative cookie cache age", validEnv("AUTH_COOKIE_CACHE_MAX_AGE=-5s"), []string{"AUTH_COOKIE_CACHE_MAX_AGE must be 0 (off) or whole seconds"}},
		{"fractional JWT lifetime", validEnv("AUTH_JWT_EXPIRATION=1500ms"), []string{"AUTH_JWT_EXPIRATION must be whole seconds"}},
		{"zero JWT lifetime", validEnv("AUTH_JWT_EXPIRATION=0s"), []string{"AUTH_JWT_EXPIRATION must be whole seconds, at least 1s"}},
		{"negative key rotation", validEnv("AUTH_JWKS_ROTATION_INTERVAL=-1h"), []string{"AUTH_JWKS_ROTATION_INTERVAL must be 0 (never) or whole seconds"}},
		{"fractional grace period", validEnv("AUTH_JWKS_GRACE_PERIOD=1.5s"), []string{"AUTH_JWKS_GRACE_PERIOD must be whole seconds"}},
		{"negative janitor interval", validEnv("AUTH_JANITOR_INTERVAL=-1m"), []string{"AUTH_JANITOR_INTERVAL must be 0 (off) or positive"}},
		{"production over http", prodEnv("AUTH_BASE_URL=http://localhost:8100/api"),
			[]string{"AUTH_BASE_URL must use https when APP_ENV is production (the default); to run locally over http, set APP_ENV=development"}},
		{"production over https", prodEnv(), nil},
		{"production without rate limit", prodEnv("AUTH_RATE_LIMIT_ENABLED=false"),
			[]string{"AUTH_RATE_LIMIT_ENABLED must not be false when APP_ENV is production"}},
		// Production refuses what would leak: links to the log, mail or
		// database traffic in clear, origins anyone can register.
		{"production without smtp", validEnv("APP_ENV=production", "AUTH_BASE_URL=https://example.com/api"), []string{"SMTP_HOST is required when APP_ENV is production"}},
		{"production smtp in clear", prodEnv("SMTP_TLS=none"), []string{"SMTP_TLS must not be none towards smtp.example.com"}},
		{"production smtp in clear to loopback", prodEnv("SMTP_TLS=none", "SMTP_HOST=127.0.0.1", "SMTP_USERNAME=u"), nil},
		{"production smtp in clear to localhost", prodEnv("SMTP_TLS=none", "SMTP_HOST=localhost"), nil},
		{"production implicit tls", prodEnv("SMTP_TLS=tls"), nil},
		{"bad smtp tls", validEnv("SMTP_TLS=opportunistic"), []string{"SMTP_TLS must be starttls, tls or none"}},
		{"development smtp in clear", validEnv("SMTP_HOST=mailpit", "SMTP_TLS=none"), nil},
		{"development credentials in clear", validEnv("SMTP_HOST=mailpit", "SMTP_TLS=none", "SMTP_USERNAME=u"),
			[]string{"SMTP_USERNAME needs SMTP_TLS starttls or tls towards mailpit"}},
		{"production db in clear", prodEnv("DB_HOST=db.example.com"), []string{"DB_SSLMODE must not be disable towards db.example.com"}},
		{"production db in clear over ipv6", prodEnv("DB_HOST=2001:db8::5"), []string{"DB_SSLMODE must not be disable"}},
		{"production db verified", prodEnv("DB_HOST=db.example.com", "DB_SSLMODE=verify-full"), nil},
		{"production db unverified", prodEnv("DB_HOST=db.example.com", "DB_SSLMODE=require"), nil},
		{"production db on loopback", prodEnv("DB_HOST=127.0.0.1"), nil},
		{"production db on ::1", prodEnv("DB_HOST=::1"), nil},
		{"production db on a unix socket", prodEnv("DB_HOST=/var/run/postgresql"), nil},
		{"development db in clear", validEnv("DB_HOST=db.example.com"), nil},
		{"production origin *.com", prodEnv("AUTH_TRUSTED_ORIGINS=*.com"), []string{`AUTH_TRUSTED_ORIGINS: "*.com" would trust every site`}},
		{"production origin https://*", prodEnv("AUTH_TRUSTED_ORIGINS=https://*"), []string{`"https://*" would trust every site`}},
		{"production origin https://*.co.uk", prodEnv("AUTH_TRUSTED_ORIGINS=https://*.co.uk"), []string{`"https://*.co.uk" would trust`}},
		{"production origin *.github.io", prodEnv("AUTH_TRUSTED_ORIGINS=*.github.io"), []string{`"*.github.io" would trust`}},
		{"production origin https://*com", prodEnv("AUTH_TRUSTED_ORIGINS=https://*com:443"), []string{`"https://*com:443" would trust`}},
		{"production origin *.*", prodEnv("AUTH_TRUSTED_ORIGINS=*.*"), []string{`"*.*" would trust`}},
		{"production origin any ipv4", prodEnv("AUTH_TRUSTED_ORIGINS=http://*.*.*.*"), []string{`"http://*.*.*.*" would trust`}},
		{"production origins named", prodEnv("AUTH_TRUSTED_ORIGINS=https://*.example.com,*.example.co.uk,http://192.168.*.*,myapp://*,https://app.example.com"), nil},
		{"development origin *.com", validEnv("AUTH_TRUSTED_ORIGINS=*.com"), nil},
		{"development without rate limit", validEnv("AUTH_RATE_LIMIT_ENABLED=false"), nil},
		{"zero timeout", validEnv("DB_QUERY_TIMEOUT=0s"), []string{"DB_QUERY_TIMEOUT must be a positive duration"}},
		{"no mail senders", validEnv("SMTP_WORKERS=0", "SMTP_QUEUE_SIZE=-1", "SMTP_SEND_TIMEOUT=0s"),
			[]string{"SMTP_WORKERS must be positive", "SMTP_QUEUE_SIZE must be positive", "SMTP_SEND_TIMEOUT must be a positive duration"}},
		{"blank issuer", validEnv("AUTH_TWO_FACTOR_ISSUER= "), []string{"AUTH_TWO_FACTOR_ISSUER must name"}},
		{"negative hash limits", validEnv("AUTH_PASSWORD_HASH_CONCURRENCY=-1", "AUTH_PASSWORD_HASH_QUEUE=-1"),
			[]string{"AUTH_PASSWORD_HASH_CONCURRENCY must be 0", "AUTH_PASSWORD_HASH_QUEUE must be 0"}},
		{"no connections", validEnv("HTTP_MAX_CONNS=0"), []string{"HTTP_MAX_CONNS must be a positive number"}},
		{"bad from", validEnv("SMTP_FROM=not an address"), []string{"SMTP_FROM must be a mail address"}},
		{"no failures per network", validEnv("AUTH_SIGNIN_FAILURES_PER_NETWORK=0"), []string{"AUTH_SIGNIN_FAILURES_PER_NETWORK must be a positive number"}},
		{"negative failures per account", validEnv("AUTH_SIGNIN_FAILURES_PER_ACCOUNT=-1"), []string{"AUTH_SIGNIN_FAILURES_PER_ACCOUNT must be a positive number"}},
		{"every problem at once",
			[]string{"APP_ENV=development", "APP_SECRET=short", "DB_PORT=70000", "SMTP_PORT=-1", "DB_SSLMODE=allow", "AUTH_TRUSTED_ORIGINS=*"},
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
		"AUTH_DELETE_USER_CONFIRM_BY_EMAIL",
		"AUTH_RATE_LIMIT_ENABLED", "AUTH_RATE_LIMIT_STORAGE", "AUTH_REVOKE_SESSIONS_ON_PASSWORD_RESET", "AUTH_TRUSTED_PROXIES",
		"AUTH_COOKIE_CACHE_MAX_AGE", "AUTH_COOKIE_CACHE_VERSION",
		"AUTH_JWT_ENABLED", "AUTH_JWT_ISSUER", "AUTH_JWT_AUDIENCE", "AUTH_JWT_EXPIRATION",
		"AUTH_JWKS_ROTATION_INTERVAL", "AUTH_JWKS_GRACE_PERIOD", "AUTH_BEARER_ENABLED",
		"AUTH_SIGNIN_FAILURES_PER_NETWORK", "AUTH_SIGNIN_FAILURES_PER_ACCOUNT",
		"HTTP_ADDR", "HTTP_BODY_LIMIT", "HTTP_READ_TIMEOUT", "HTTP_WRITE_TIMEOUT", "HTTP_IDLE_TIMEOUT", "HTTP_SHUTDOWN_TIMEOUT",
		"HTTP_MAX_CONNS",
		"DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD", "DB_SSLMODE", "DB_MAX_OPEN_CONNS", "DB_SESSION_LOOKUPS", "DB_QUERY_TIMEOUT", "DB_DIAL_TIMEOUT",
		"SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_FROM",
		"DB_PREPARED_STATEMENTS",
		"AUTH_JANITOR_INTERVAL",
		"SMTP_TLS", "SMTP_WORKERS", "SMTP_QUEUE_SIZE", "SMTP_SEND_TIMEOUT",
		"AUTH_PASSWORD_HASH_CONCURRENCY", "AUTH_PASSWORD_HASH_QUEUE",
		"AUTH_OAUTH_PROVIDERS", "AUTH_OAUTH_TIMEOUT", "AUTH_ACCOUNT_LINKING_ENABLED", "AUTH_ACCOUNT_LINKING_TRUSTED_PROVIDERS",
		"AUTH_ACCOUNT_LINKING_ALLOW_DIFFERENT_EMAILS", "AUTH_ACCOUNT_LINKING_ALLOW_UNLINKING_ALL", "AUTH_ENCRYPT_OAUTH_TOKENS",
		"AUTH_ACCOUNT_LINKING_UPDATE_USER_INFO_ON_LINK",
		"AUTH_TWO_FACTOR_ENABLED", "AUTH_TWO_FACTOR_ISSUER",
		"AUTH_SECONDARY_STORAGE", "REDIS_URL", "AUTH_STORE_SESSION_IN_DATABASE", "METRICS_ADDR",
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
		"AUTH_DELETE_USER_ENABLED": "true", "AUTH_DELETE_USER_CONFIRM_BY_EMAIL": "false", "AUTH_RATE_LIMIT_ENABLED": "false", "AUTH_RATE_LIMIT_STORAGE": "database",
		"AUTH_REVOKE_SESSIONS_ON_PASSWORD_RESET": "false", "AUTH_TRUSTED_PROXIES": "10.0.0.1",
		"AUTH_COOKIE_CACHE_MAX_AGE": "5m", "AUTH_COOKIE_CACHE_VERSION": "2",
		"AUTH_JWT_ENABLED": "true", "AUTH_JWT_ISSUER": "https://iss.example.com", "AUTH_JWT_AUDIENCE": "api",
		"AUTH_JWT_EXPIRATION": "1h", "AUTH_JWKS_ROTATION_INTERVAL": "24h", "AUTH_JWKS_GRACE_PERIOD": "1h",
		"AUTH_BEARER_ENABLED":              "true",
		"AUTH_SIGNIN_FAILURES_PER_NETWORK": "7", "AUTH_SIGNIN_FAILURES_PER_ACCOUNT": "70",
		"HTTP_ADDR": ":1", "HTTP_BODY_LIMIT": "1", "HTTP_READ_TIMEOUT": "1s", "HTTP_WRITE_TIMEOUT": "1s",
		"HTTP_IDLE_TIMEOUT": "1s", "HTTP_SHUTDOWN_TIMEOUT": "1s", "HTTP_MAX_CONNS": "1", "DB_HOST": "h", "DB_PORT": "1", "DB_NAME": "n",
		"DB_USER": "u", "DB_PASSWORD": "p", "DB_SSLMODE": "require", "DB_MAX_OPEN_CONNS": "1", "DB_SESSION_LOOKUPS": "1", "DB_QUERY_TIMEOUT": "1s",
		"DB_DIAL_TIMEOUT": "1s", "SMTP_HOST": "m", "SMTP_PORT": "1", "SMTP_USERNAME": "u", "SMTP_PASSWORD": "p",
		"DB_PREPARED_STATEMENTS": "false",
		"AUTH_JANITOR_INTERVAL":  "1m",
		"SMTP_FROM":              "a@b.cd", "SMTP_TLS": "none", "SMTP_WORKERS": "1", "SMTP_QUEUE_SIZE": "1", "SMTP_SEND_TIMEOUT": "1s",
		"AUTH_PASSWORD_HASH_CONCURRENCY": "1", "AUTH_PASSWORD_HASH_QUEUE": "1",
		"AUTH_OAUTH_PROVIDERS": "corp", "AUTH_OAUTH_TIMEOUT": "1s", "AUTH_ACCOUNT_LINKING_ENABLED": "false",
		"AUTH_ACCOUNT_LINKING_TRUSTED_PROVIDERS": "corp", "AUTH_ACCOUNT_LINKING_ALLOW_DIFFERENT_EMAILS": "true",
		"AUTH_ACCOUNT_LINKING_ALLOW_UNLINKING_ALL": "true", "AUTH_ENCRYPT_OAUTH_TOKENS": "true",
		"AUTH_ACCOUNT_LINKING_UPDATE_USER_INFO_ON_LINK": "true",
		"AUTH_TWO_FACTOR_ENABLED":                       "true", "AUTH_TWO_FACTOR_ISSUER": "Example",
		"AUTH_SECONDARY_STORAGE": "redis", "REDIS_URL": "redis://r:6379/1", "AUTH_STORE_SESSION_IN_DATABASE": "false",
		"METRICS_ADDR": "127.0.0.1:9100",
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

	c, err := load(t, []string{"APP_ENV=development", "AUTH_BASE_URL=http://localhost:8100/api", "DB_NAME=fromenv"}, config.WithDotenv(dotenv))
	if err != nil {
		t.Fatal(err)
	}
	if c.DB.Host != "fromdotenv" || c.DB.Name != "fromenv" || c.App.Secret.Reveal() != secret32 {
		t.Errorf("development: host %q name %q; want the .env value under the process env", c.DB.Host, c.DB.Name)
	}

	for _, env := range []string{"", "production", "test"} {
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

// A deployment that forgets APP_ENV gets production's rules, and the error
// tells a developer how to run locally.
func TestProductionIsTheDefault(t *testing.T) {
	c, err := load(t, []string{"APP_SECRET=" + secret32, "AUTH_BASE_URL=http://localhost:8100/api"})
	if err != nil {
		t.Fatal(err)
	}
	if c.App.Env != "production" {
		t.Fatalf("APP_ENV defaults to %q", c.App.Env)
	}
	err = c.Validate()
	if err == nil || !strings.Contains(err.Error(), "set APP_ENV=development") || !strings.Contains(err.Error(), "SMTP_HOST is required") {
		t.Fatalf("Validate = %v, want the production refusals with a hint", err)
	}
}

func TestWarnings(t *testing.T) {
	for env, want := range map[string]int{
		"DB_SSLMODE=require":     1,
		"DB_SSLMODE=verify-full": 0,
		"DB_SSLMODE=disable":     0,
	} {
		c, err := load(t, prodEnv(env))
		if err != nil {
			t.Fatal(err)
		}
		if w := c.Warnings(); len(w) != want || (want == 1 && !strings.Contains(w[0], "verify-full")) {
			t.Errorf("%s: warnings %q", env, w)
		}
	}
}

// With Redis as secondary storage the rate limits live there, as in
// better-auth, even where the config file names memory; only the
// environment chooses otherwise.
func TestRedisMovesRateLimits(t *testing.T) {
	file := writeFile(t, "c.yaml", "auth:\n  rate_limit_storage: memory\n")
	redis := validEnv("AUTH_SECONDARY_STORAGE=redis", "REDIS_URL=redis://127.0.0.1:6379/0")
	c, err := config.Load(config.WithEnviron(redis), config.WithConfigFile(file))
	if err != nil || c.Auth.RateLimitStorage != "secondary-storage" {
		t.Errorf("with redis and the file's memory: storage %q, %v; want secondary-storage", c.Auth.RateLimitStorage, err)
	}
	c, err = config.Load(config.WithEnviron(append(redis, "AUTH_RATE_LIMIT_STORAGE=database")), config.WithConfigFile(file))
	if err != nil || c.Auth.RateLimitStorage != "database" {
		t.Errorf("with redis and AUTH_RATE_LIMIT_STORAGE=database: storage %q, %v; want database", c.Auth.RateLimitStorage, err)
	}
	c, err = config.Load(config.WithEnviron(validEnv()), config.WithConfigFile(file))
	if err != nil || c.Auth.RateLimitStorage != "memory" {
		t.Errorf("without redis: storage %q, %v; want memory", c.Auth.RateLimitStorage, err)
	}
}

// A migration job in production needs the database settings only: no
// secret, base URL or mail server. The database rules still hold.
func TestValidateDatabase(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		want []string
	}{
		{"production, database only", []string{"APP_ENV=production", "DB_HOST=127.0.0.1"}, nil},
		{"production db in clear", []string{"APP_ENV=production", "DB_HOST=db.example.com"}, []string{"DB_SSLMODE must not be disable towards db.example.com"}},
		{"production db verified", []string{"APP_ENV=production", "DB_HOST=db.example.com", "DB_SSLMODE=verify-full"}, nil},
		{"bad port", []string{"APP_ENV=production", "DB_PORT=0"}, []string{"DB_PORT"}},
		{"bad env", []string{"APP_ENV=staging"}, []string{"APP_ENV must be one of"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := load(t, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			err = c.ValidateDatabase()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("ValidateDatabase = %v, want nil", err)
				}
				if c.Validate() == nil {
					t.Fatal("Validate passed too: the case does not show what migrate is spared")
				}
				return
			}
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Fatalf("ValidateDatabase = %v, want %q", err, w)
				}
			}
		})
	}
}
