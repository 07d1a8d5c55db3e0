package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"
)

// MinSecretLength is the shortest APP_SECRET accepted. better-auth only warns
// below 32; authd refuses to start.
const MinSecretLength = 32

// ExampleSecret is the placeholder shipped in .env.example; it is public, so
// it is refused like a missing secret.
const ExampleSecret = "replace-me-with-openssl-rand-base64-32-output"

// Validate reports every problem at once, each naming the environment
// variable that fixes it, so that a misconfigured deployment fails closed on
// the first start rather than one error per restart.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	prod := c.App.Env == "production"

	errs = append(errs, c.databaseProblems()...)
	switch secret := c.App.Secret.Reveal(); {
	case secret == "":
		add("APP_SECRET is required")
	case secret == ExampleSecret:
		add("APP_SECRET must not be the example value from .env.example")
	case len(secret) < MinSecretLength:
		add("APP_SECRET must be at least %d characters", MinSecretLength)
	}

	if c.Auth.BaseURL == "" {
		add("AUTH_BASE_URL is required")
	} else if u, ok := parseBaseURL(c.Auth.BaseURL); !ok {
		add("AUTH_BASE_URL must be an absolute http(s) URL without query or fragment, e.g. https://example.com/api (got %q)", c.Auth.BaseURL)
	} else if prod && u.Scheme != "https" {
		add("AUTH_BASE_URL must use https when APP_ENV is production (the default); to run locally over http, set APP_ENV=development")
	}
	for _, o := range c.Auth.TrustedOrigins {
		if o == "*" {
			add(`AUTH_TRUSTED_ORIGINS must not contain "*": it would trust every site`)
		} else if prod && matchesAnySite(o) {
			add("AUTH_TRUSTED_ORIGINS: %q would trust every site under a public suffix; name the domain (e.g. https://*.example.com)", o)
		}
	}
	errs = append(errs, c.validateOAuth()...)
	for _, p := range c.Auth.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				add("AUTH_TRUSTED_PROXIES: %q is neither an IP address nor a CIDR", p)
			}
		}
	}
	if prod && !c.Auth.RateLimitEnabled {
		add("AUTH_RATE_LIMIT_ENABLED must not be false when APP_ENV is production")
	}
	if c.Auth.RateLimitWindow < time.Second || c.Auth.RateLimitWindow%time.Second != 0 {
		add("AUTH_RATE_LIMIT_WINDOW must be a whole number of seconds, at least 1s (got %s)", c.Auth.RateLimitWindow)
	}
	if c.Auth.RateLimitMax < 1 {
		add("AUTH_RATE_LIMIT_MAX must be at least 1 (got %d)", c.Auth.RateLimitMax)
	}
	if !slices.Contains([]string{"memory", "database", "secondary-storage"}, c.Auth.RateLimitStorage) {
		add("AUTH_RATE_LIMIT_STORAGE must be memory, database or secondary-storage (got %q)", c.Auth.RateLimitStorage)
	} else if c.Auth.RateLimitStorage == "secondary-storage" && c.Auth.SecondaryStorage != "redis" {
		add("AUTH_RATE_LIMIT_STORAGE=secondary-storage needs AUTH_SECONDARY_STORAGE=redis")
	}
	switch c.Auth.SecondaryStorage {
	case "":
	case "redis":
		if u := c.Redis.URL.Reveal(); u == "" {
			add("REDIS_URL is required when AUTH_SECONDARY_STORAGE is redis, e.g. redis://127.0.0.1:6379/0")
		} else if p, err := url.Parse(u); err != nil || (p.Scheme != "redis" && p.Scheme != "rediss" && p.Scheme != "unix") {
			add("REDIS_URL must be a redis://, rediss:// or unix:// URL (value not shown: it may hold a password)")
		}
	default:
		add("AUTH_SECONDARY_STORAGE must be redis or empty (got %q)", c.Auth.SecondaryStorage)
	}
	if a := c.Metrics.Addr; a != "" {
		if _, _, err := net.SplitHostPort(a); err != nil {
			add("METRICS_ADDR must be host:port or empty (got %q)", a)
		}
	}

	if m := c.Auth.CookieCacheMaxAge; m != 0 && (m < time.Second || m%time.Second != 0 || m > 400*24*time.Hour) {
		add("AUTH_COOKIE_CACHE_MAX_AGE must be 0 (off) or whole seconds up to 400 days, e.g. 5m (got %v)", m)
	}

	// better-auth reads expirationTime in whole seconds.
	if e := c.Auth.JWTExpiration; e < time.Second || e%time.Second != 0 {
		add("AUTH_JWT_EXPIRATION must be whole seconds, at least 1s, e.g. 15m (got %v)", e)
	}
	if r := c.Auth.JWKSRotationInterval; r < 0 || r%time.Second != 0 {
		add("AUTH_JWKS_ROTATION_INTERVAL must be 0 (never) or whole seconds, e.g. 720h (got %v)", r)
	}
	if g := c.Auth.JWKSGracePeriod; g < 0 || g%time.Second != 0 {
		add("AUTH_JWKS_GRACE_PERIOD must be whole seconds, e.g. 720h (got %v)", g)
	}
	if c.Auth.JanitorInterval < 0 {
		add("AUTH_JANITOR_INTERVAL must be 0 (off) or positive, e.g. 10m (got %v)", c.Auth.JanitorInterval)
	}
	if c.Auth.SignInFailuresPerNetwork <= 0 {
		add("AUTH_SIGNIN_FAILURES_PER_NETWORK must be a positive number of failed password checks an hour (got %d)", c.Auth.SignInFailuresPerNetwork)
	}
	if c.Auth.SignInFailuresPerAccount <= 0 {
		add("AUTH_SIGNIN_FAILURES_PER_ACCOUNT must be a positive number of failed password checks an hour (got %d)", c.Auth.SignInFailuresPerAccount)
	}
	if c.Auth.PasswordHashConcurrency < 0 {
		add("AUTH_PASSWORD_HASH_CONCURRENCY must be 0 (GOMAXPROCS) or positive (got %d)", c.Auth.PasswordHashConcurrency)
	}
	if c.Auth.PasswordHashQueue < 0 {
		add("AUTH_PASSWORD_HASH_QUEUE must be 0 (64 per concurrent hash) or positive (got %d)", c.Auth.PasswordHashQueue)
	}
	if strings.TrimSpace(c.Auth.TwoFactorIssuer) == "" {
		add("AUTH_TWO_FACTOR_ISSUER must name the service shown in authenticator apps")
	}

	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		add("HTTP_ADDR must be host:port (got %q)", c.HTTP.Addr)
	}
	if c.HTTP.BodyLimit <= 0 {
		add("HTTP_BODY_LIMIT must be a positive number of bytes")
	}
	if c.HTTP.MaxConns <= 0 {
		add("HTTP_MAX_CONNS must be a positive number of connections")
	}
	positive(add, "HTTP_READ_TIMEOUT", c.HTTP.ReadTimeout)
	positive(add, "HTTP_WRITE_TIMEOUT", c.HTTP.WriteTimeout)
	positive(add, "HTTP_IDLE_TIMEOUT", c.HTTP.IdleTimeout)
	positive(add, "HTTP_SHUTDOWN_TIMEOUT", c.HTTP.ShutdownTimeout)

	if c.SMTP.Port != 0 {
		port(add, "SMTP_PORT", c.SMTP.Port)
	}
	if c.SMTP.Workers <= 0 {
		add("SMTP_WORKERS must be positive (got %d)", c.SMTP.Workers)
	}
	if c.SMTP.QueueSize <= 0 {
		add("SMTP_QUEUE_SIZE must be positive (got %d)", c.SMTP.QueueSize)
	}
	positive(add, "SMTP_SEND_TIMEOUT", c.SMTP.SendTimeout)
	if !slices.Contains([]string{"starttls", "tls", "none"}, c.SMTP.TLS) {
		add("SMTP_TLS must be starttls, tls or none (got %q)", c.SMTP.TLS)
	}
	switch {
	case prod && c.SMTP.Host == "":
		add("SMTP_HOST is required when APP_ENV is production: without it mails, with their live reset and verification links, go to the log")
	case c.SMTP.TLS != "none" || isLoopback(c.SMTP.Host):
	case prod:
		add("SMTP_TLS must not be none towards %s when APP_ENV is production: use starttls or tls", c.SMTP.Host)
	case c.SMTP.Username != "":
		add("SMTP_USERNAME needs SMTP_TLS starttls or tls towards %s: the password would cross the network in clear text", c.SMTP.Host)
	}
	if _, err := mail.ParseAddress(c.SMTP.From); err != nil {
		add("SMTP_FROM must be a mail address such as \"authd <no-reply@example.com>\" (got %q)", c.SMTP.From)
	}

	return errors.Join(errs...)
}

// ValidateDatabase reports the problems of what `authd migrate` uses:
// APP_ENV and the DB_* settings. A migration job needs no secret, base URL
// or mail server, so it is not refused for lacking them.
func (c Config) ValidateDatabase() error { return errors.Join(c.databaseProblems()...) }

// databaseProblems are APP_ENV's and the DB_* settings' problems, each
// naming its variable.
func (c Config) databaseProblems() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	prod := c.App.Env == "production"
	if !slices.Contains([]string{"development", "production", "test"}, c.App.Env) {
		add("APP_ENV must be one of development, production, test (got %q)", c.App.Env)
	}

	if c.DB.Host == "" {
		add("DB_HOST is required")
	}
	port(add, "DB_PORT", c.DB.Port)
	if c.DB.Name == "" {
		add("DB_NAME is required")
	}
	if c.DB.User == "" {
		add("DB_USER is required")
	}
	if !slices.Contains([]string{"disable", "require", "verify-full"}, c.DB.SSLMode) {
		add("DB_SSLMODE must be disable, require or verify-full (got %q)", c.DB.SSLMode)
	}
	if prod && c.DB.SSLMode == "disable" && !isLoopback(c.DB.Host) && !strings.HasPrefix(c.DB.Host, "/") {
		add("DB_SSLMODE must not be disable towards %s when APP_ENV is production: use verify-full", c.DB.Host)
	}
	if c.DB.MaxOpenConns <= 0 {
		add("DB_MAX_OPEN_CONNS must be positive")
	}
	if c.DB.SessionLookups < 0 || c.DB.SessionLookups > c.DB.MaxOpenConns {
		add("DB_SESSION_LOOKUPS must be 0 (auto) or between 1 and DB_MAX_OPEN_CONNS (got %d)", c.DB.SessionLookups)
	}
	positive(add, "DB_QUERY_TIMEOUT", c.DB.QueryTimeout)
	positive(add, "DB_DIAL_TIMEOUT", c.DB.DialTimeout)
	return errs
}

// Warnings lists settings that are allowed but weaker than they look, for
// the operator's log.
func (c Config) Warnings() []string {
	var w []string
	if c.App.Env == "production" && c.DB.SSLMode == "require" {
		w = append(w, "DB_SSLMODE=require encrypts but does not check the server's certificate; verify-full does")
	}
	return w
}

// matchesAnySite reports whether a wildcard trusted origin leaves nothing
// fixed but a public suffix ("https://*", "*.com", "https://*.co.uk"), so
// that anyone can register a host it matches. Custom schemes (app deep
// links) are not web sites and are left alone.
func matchesAnySite(pattern string) bool {
	if !strings.ContainsAny(pattern, "*?") {
		return false
	}
	host := pattern
	if scheme, rest, ok := strings.Cut(pattern, "://"); ok {
		if scheme = strings.ToLower(scheme); scheme != "http" && scheme != "https" && !strings.ContainsAny(scheme, "*?") {
			return false
		}
		host = rest
	}
	if i := strings.IndexAny(host, "/:"); i >= 0 {
		host = host[:i]
	}
	host = strings.ToLower(host)
	if strings.Trim(host, "0123456789.*?") == "" {
		// An IPv4 range ("192.168.*.*") must fix its first octets.
		return strings.IndexAny(host, "*?") == 0
	}
	fixed := strings.TrimLeft(host[strings.LastIndexAny(host, "*?")+1:], ".")
	if fixed == "" {
		return true
	}
	suffix, _ := publicsuffix.PublicSuffix(fixed)
	return suffix == fixed
}

// isLoopback reports whether host is "localhost" or a loopback IP literal,
// the only hosts whose traffic never crosses a network.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.IsLoopback()
}

func parseBaseURL(s string) (*url.URL, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil || strings.Contains(u.Host, "*") {
		return nil, false
	}
	return u, true
}

func positive(add func(string, ...any), name string, d time.Duration) {
	if d <= 0 {
		add("%s must be a positive duration such as \"10s\"", name)
	}
}

func port(add func(string, ...any), name string, p int) {
	if p < 1 || p > 65535 {
		add("%s must be between 1 and 65535 (got %d)", name, p)
	}
}
