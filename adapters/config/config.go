// Package config loads authd's settings with koanf: built-in defaults, then an
// optional YAML file, then (in development only) a .env file, then the process
// environment. Environment names are part of the deployment contract: a key
// "section.field" is set by SECTION_FIELD (AUTH_BASE_URL -> auth.base_url).
package config

import (
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"runtime"
	"strings"
	"time"
)

// Config is the whole of authd's configuration. Load it with Load and check it
// with Validate before use.
type Config struct {
	App  App  `koanf:"app"`
	Auth Auth `koanf:"auth"`
	HTTP HTTP `koanf:"http"`
	DB   DB   `koanf:"db"`
	SMTP SMTP `koanf:"smtp"`
	// OAuth is read from variables that carry a provider id
	// (AUTH_OAUTH_<ID>_*, AUTH_SOCIAL_<NAME>_*); see oauth.go.
	OAuth OAuthProviders `koanf:"-"`
	// Redis is better-auth's secondaryStorage (AUTH_SECONDARY_STORAGE=redis).
	Redis Redis `koanf:"redis"`
	// Metrics serves Prometheus's /metrics on its own listener.
	Metrics Metrics `koanf:"metrics"`
}

// Redis locates the Redis server (or Sentinel, or Cluster).
type Redis struct {
	// URL is redis://[user:password@]host:port/db; more addresses as
	// repeated addr=host:port query parameters (Cluster), master_name=<name>
	// for Sentinel. A Secret: it may hold the password.
	URL Secret `koanf:"url"`
}

// Metrics configures the Prometheus listener.
type Metrics struct {
	Addr string `koanf:"addr"` // empty = off
}

// App holds process-wide settings.
type App struct {
	Env    string `koanf:"env"`    // development | production | test
	Secret Secret `koanf:"secret"` // signs cookies and email tokens; >= 32 characters
}

// Auth holds the better-auth options authd supports.
type Auth struct {
	// BaseURL is the public URL of the API including its path (e.g.
	// https://example.com/api); the auth routes live under BaseURL + "/auth".
	BaseURL                  string   `koanf:"base_url"`
	TrustedOrigins           []string `koanf:"trusted_origins"`
	RequireEmailVerification bool     `koanf:"require_email_verification"`
	DeleteUserEnabled        bool     `koanf:"delete_user_enabled"`
	RateLimitEnabled         bool     `koanf:"rate_limit_enabled"`
	RateLimitStorage         string   `koanf:"rate_limit_storage"` // memory | database | secondary-storage
	// RateLimitWindow and RateLimitMax are better-auth's rateLimit.window
	// and rateLimit.max: the rule of every route without a stricter one.
	RateLimitWindow time.Duration `koanf:"rate_limit_window"`
	RateLimitMax    int           `koanf:"rate_limit_max"`
	// SecondaryStorage is "redis" for better-auth's secondaryStorage
	// (sessions, verification values and rate limits in Redis), or empty.
	SecondaryStorage string `koanf:"secondary_storage"`
	// StoreSessionInDatabase keeps sessions in Postgres too (better-auth's
	// session.storeSessionInDatabase), so that a Redis outage degrades to
	// the database.
	StoreSessionInDatabase        bool `koanf:"store_session_in_database"`
	RevokeSessionsOnPasswordReset bool `koanf:"revoke_sessions_on_password_reset"`
	// TrustedProxies are the IPs/CIDRs whose X-Forwarded-For is believed.
	TrustedProxies []string `koanf:"trusted_proxies"`
	// CookieCacheMaxAge turns on better-auth's session cookie cache with this
	// lifetime (0 = off); CookieCacheVersion invalidates all caches when changed.
	CookieCacheMaxAge  time.Duration `koanf:"cookie_cache_max_age"`
	CookieCacheVersion string        `koanf:"cookie_cache_version"`
	// better-auth's jwt plugin: GET /token, GET /jwks and set-auth-jwt.
	// Issuer and audience default to Origin() (Config.JWTIssuer and
	// Config.JWTAudience); keys
	// get an expiry JWKSRotationInterval ahead (0 = never) and stay in
	// the JWKS for JWKSGracePeriod after it.
	JWTEnabled           bool          `koanf:"jwt_enabled"`
	JWTIssuer            string        `koanf:"jwt_issuer"`
	JWTAudience          string        `koanf:"jwt_audience"`
	JWTExpiration        time.Duration `koanf:"jwt_expiration"`
	JWKSRotationInterval time.Duration `koanf:"jwks_rotation_interval"`
	JWKSGracePeriod      time.Duration `koanf:"jwks_grace_period"`
	// BearerEnabled is better-auth's bearer plugin: Authorization: Bearer
	// authenticates session routes, and set-auth-token carries new tokens.
	BearerEnabled bool `koanf:"bearer_enabled"`
	// JanitorInterval is how often expired sessions and verifications are
	// deleted (by one instance at a time); 0 = never.
	JanitorInterval time.Duration `koanf:"janitor_interval"`
	// SignInFailuresPerNetwork wrong passwords an hour for one account from
	// one client network (IPv4 /24, IPv6 /64) refuse that network;
	// SignInFailuresPerAccount from all networks refuse every client but the
	// browsers that signed in to the account before.
	SignInFailuresPerNetwork int `koanf:"signin_failures_per_network"`
	SignInFailuresPerAccount int `koanf:"signin_failures_per_account"`

	// DeleteUserConfirmByEmail mails a confirmation link (better-auth's
	// sendDeleteAccountVerification) instead of deleting at once.
	DeleteUserConfirmByEmail bool `koanf:"delete_user_confirm_by_email"`
	// PasswordHashConcurrency bounds scrypt runs at once (0 = GOMAXPROCS;
	// each takes a core and 32 MiB); PasswordHashQueue bounds the callers
	// waiting (0 = 64 per run), beyond which sign-ins get 503.
	PasswordHashConcurrency int `koanf:"password_hash_concurrency"`
	PasswordHashQueue       int `koanf:"password_hash_queue"`

	// Social sign-in (better-auth's account options and genericOAuth ids).
	OAuthProviders                     []string      `koanf:"oauth_providers"`
	OAuthTimeout                       time.Duration `koanf:"oauth_timeout"`
	AccountLinkingEnabled              bool          `koanf:"account_linking_enabled"`
	AccountLinkingTrustedProviders     []string      `koanf:"account_linking_trusted_providers"`
	AccountLinkingAllowDifferentEmails bool          `koanf:"account_linking_allow_different_emails"`
	AccountLinkingAllowUnlinkingAll    bool          `koanf:"account_linking_allow_unlinking_all"`
	EncryptOAuthTokens                 bool          `koanf:"encrypt_oauth_tokens"`
	AccountLinkingUpdateUserInfoOnLink bool          `koanf:"account_linking_update_user_info_on_link"`
	// TwoFactorEnabled turns on better-auth's twoFactor plugin (its routes
	// and the sign-in challenge); TwoFactorIssuer names the service in
	// authenticator apps.
	TwoFactorEnabled bool   `koanf:"two_factor_enabled"`
	TwoFactorIssuer  string `koanf:"two_factor_issuer"`
}

// HTTP holds the listener's limits.
type HTTP struct {
	Addr            string        `koanf:"addr"`
	BodyLimit       int           `koanf:"body_limit"` // bytes
	ReadTimeout     time.Duration `koanf:"read_timeout"`
	WriteTimeout    time.Duration `koanf:"write_timeout"`
	IdleTimeout     time.Duration `koanf:"idle_timeout"`
	MaxConns        int           `koanf:"max_conns"` // connections served at once
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout"`
}

// DB holds the Postgres connection settings.
type DB struct {
	Host         string `koanf:"host"`
	Port         int    `koanf:"port"`
	Name         string `koanf:"name"`
	User         string `koanf:"user"`
	Password     Secret `koanf:"password"`
	SSLMode      string `koanf:"sslmode"` // disable | require | verify-full
	MaxOpenConns int    `koanf:"max_open_conns"`
	// SessionLookups bounds get-session's lookup queries in flight; 0 = auto
	// (GOMAXPROCS, at least 2). Lookups arriving meanwhile share the next one.
	SessionLookups int           `koanf:"session_lookups"`
	QueryTimeout   time.Duration `koanf:"query_timeout"`
	DialTimeout    time.Duration `koanf:"dial_timeout"`
	// PreparedStatements prepares the hot lookups once per connection; turn
	// it off behind a pooler in transaction mode (PgBouncer).
	PreparedStatements bool `koanf:"prepared_statements"`
}

// SMTP holds the outgoing mail settings; with no Host, mails are logged
// (refused in production, since the log would then hold live reset links).
type SMTP struct {
	Host string `koanf:"host"`
	Port int    `koanf:"port"` // 0: 465 with TLS "tls", else 587
	// TLS is starttls (required, never opportunistic), tls (implicit, SMTPS)
	// or none (production allows it towards a loopback relay only).
	TLS      string `koanf:"tls"`
	Username string `koanf:"username"`
	Password Secret `koanf:"password"`
	From     string `koanf:"from"`
	// Mails wait in a queue of QueueSize for Workers senders, each delivery
	// bounded by SendTimeout, so that requests never wait for the server.
	Workers     int           `koanf:"workers"`
	QueueSize   int           `koanf:"queue_size"`
	SendTimeout time.Duration `koanf:"send_timeout"`
}

// defaults are the values used when neither file nor environment sets a key.
func defaults() map[string]any {
	return map[string]any{
		"app.env":                                "production",
		"auth.trusted_origins":                   []string{},
		"auth.trusted_proxies":                   []string{},
		"auth.rate_limit_enabled":                true,
		"auth.rate_limit_storage":                "memory",
		"auth.rate_limit_window":                 "10s",
		"auth.rate_limit_max":                    100,
		"auth.secondary_storage":                 "",
		"auth.store_session_in_database":         true,
		"redis.url":                              "",
		"metrics.addr":                           "",
		"auth.revoke_sessions_on_password_reset": true,
		"auth.delete_user_confirm_by_email":      true,
		"auth.cookie_cache_max_age":              "0s",
		"auth.cookie_cache_version":              "1",
		"auth.jwt_enabled":                       false,
		"auth.jwt_issuer":                        "",
		"auth.jwt_audience":                      "",
		"auth.jwt_expiration":                    "15m",
		"auth.jwks_rotation_interval":            "0s",
		"auth.jwks_grace_period":                 "720h",
		"auth.bearer_enabled":                    false,
		"auth.janitor_interval":                  "10m",
		"auth.signin_failures_per_network":       100,
		"auth.signin_failures_per_account":       1000,
		"http.addr":                              "127.0.0.1:8100",
		"http.body_limit":                        64 << 10,
		"http.read_timeout":                      "10s",
		"http.write_timeout":                     "15s",
		"http.idle_timeout":                      "60s",
		"http.max_conns":                         4096,
		"http.shutdown_timeout":                  "30s",
		"db.host":                                "localhost",
		"db.port":                                5432,
		"db.name":                                "authd",
		"db.user":                                "postgres",
		"db.sslmode":                             "disable",
		"db.max_open_conns":                      4 * runtime.GOMAXPROCS(0),
		"db.session_lookups":                     0,
		"db.query_timeout":                       "3s",
		"db.dial_timeout":                        "5s",
		"db.prepared_statements":                 true,
		"smtp.port":                              0,
		"smtp.tls":                               "starttls",
		"smtp.workers":                           4,
		"smtp.queue_size":                        1024,
		"smtp.send_timeout":                      "15s",
		"auth.password_hash_concurrency":         0,
		"auth.password_hash_queue":               0,
		"auth.two_factor_enabled":                false,
		"auth.two_factor_issuer":                 "Better Auth",
		"smtp.from":                              "authd <no-reply@localhost>",
		"auth.oauth_providers":                   []string{},
		"auth.oauth_timeout":                     "10s",
		"auth.account_linking_enabled":           true,
		"auth.account_linking_trusted_providers": []string{},
	}
}

// AuthBaseURL is the public URL of the auth routes, e.g.
// "http://localhost:8100/api/auth"; mailed links are built on it.
func (c Config) AuthBaseURL() string {
	return strings.TrimRight(c.Auth.BaseURL, "/") + "/auth"
}

// AuthBasePath is the path the auth routes are mounted on, e.g. "/api/auth".
func (c Config) AuthBasePath() string {
	u, err := url.Parse(c.Auth.BaseURL)
	if err != nil {
		return "/auth"
	}
	return strings.TrimRight(u.Path, "/") + "/auth"
}

// JWTIssuer is the iss claim: AUTH_JWT_ISSUER, else the base URL's origin
// (better-auth's default).
func (c Config) JWTIssuer() string { return orDefault(c.Auth.JWTIssuer, c.Origin()) }

// JWTAudience is the aud claim: AUTH_JWT_AUDIENCE, else the base URL's origin.
func (c Config) JWTAudience() string { return orDefault(c.Auth.JWTAudience, c.Origin()) }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Origin is the base URL's origin as a browser sends it in the Origin header:
// lower-case scheme and host, default port dropped.
func (c Config) Origin() string {
	u, err := url.Parse(c.Auth.BaseURL)
	if err != nil || u.Host == "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" && !(scheme == "http" && p == "80") && !(scheme == "https" && p == "443") {
		host += ":" + p
	}
	return scheme + "://" + host
}

const redacted = "[redacted]"

// Secret is a string that never prints: fmt (every verb, including %d and
// %#v, hence Format rather than only String), slog and the encoders all see
// "[redacted]". Call Reveal where the value is really needed.
type Secret string

func (s Secret) Reveal() string             { return string(s) }
func (Secret) String() string               { return redacted }
func (Secret) Format(f fmt.State, _ rune)   { _, _ = io.WriteString(f, redacted) }
func (Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
