package httpfiber

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/authd/authd/adapters/httpfiber/internal/cookie"
	coretokens "github.com/authd/authd/core/tokens"
	core2fa "github.com/authd/authd/core/twofactor"
)

// Options configure the HTTP adapter. Zero durations and limits take the
// defaults noted on each field.
type Options struct {
	// BasePath is where the auth routes live, default "/api/auth".
	BasePath string
	// BaseURL is the public URL of the auth routes, e.g.
	// "http://localhost:8100/api/auth". Its origin is always trusted, and an
	// https URL switches the cookies to the "__Secure-" prefix with Secure.
	BaseURL string
	// Secret keys the cookie signatures (HMAC-SHA256), as better-auth's
	// secret does.
	Secret []byte
	// TrustedOrigins are further origins allowed to call with cookies and to
	// be redirected to; better-auth's patterns ("https://*.example.com",
	// "*.example.com", "myapp://") are supported.
	TrustedOrigins []string
	// RateLimitEnabled turns on better-auth's per-IP, per-route limits.
	RateLimitEnabled bool
	// RateLimitWindow and RateLimitMax are the rule of routes without a
	// stricter built-in one (better-auth's rateLimit.window and .max),
	// default 100 requests per 10 s. The window is whole seconds.
	RateLimitWindow time.Duration
	RateLimitMax    int
	// TrustedProxies (IPs or CIDRs) may supply the client address in
	// X-Forwarded-For or RFC 7239 Forwarded. Requests from anyone else are
	// keyed by their socket address.
	TrustedProxies []string
	// BodyLimit caps request bodies in bytes (413 above), default 64 KiB.
	BodyLimit int
	// MaxConns caps the connections served at once, default 4096; past it a
	// new connection gets 503 and is closed. Each costs its 8 KiB read buffer
	// and more, so the cap bounds what idle or slow clients can hold.
	MaxConns int
	// ReadTimeout, WriteTimeout and IdleTimeout default to 10 s, 15 s and 60 s.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// RequestTimeout bounds the context handed to the auth engine for each
	// request, default 10 s: fasthttp never cancels a request's context, so
	// without this a stuck dependency would hold handlers forever.
	RequestTimeout time.Duration
	// CookieCacheMaxAge turns on better-auth's session.cookieCache (compact
	// strategy) with this lifetime, in whole seconds; zero leaves it off.
	// While a session_data cookie is valid, get-session answers from it
	// without the database, so a revoked session stays visible there for
	// up to this long.
	CookieCacheMaxAge time.Duration
	// CookieCacheVersion is cookieCache.version, default "1": changing it
	// invalidates every cached session at once.
	CookieCacheVersion string
	// Logger receives the access log and error reports, default slog.Default().
	Logger *slog.Logger
	// Tokens turns on better-auth's jwt plugin (GET /token, GET /jwks,
	// set-auth-jwt on get-session) with this service; nil leaves it off.
	Tokens *coretokens.Service
	// Bearer turns on better-auth's bearer plugin: Authorization: Bearer
	// stands for the session cookie, and set-auth-token carries new ones.
	Bearer bool
	// TwoFactor, when set, turns on better-auth's twoFactor plugin: its
	// routes, the sign-in challenge and twoFactorEnabled on every user.
	TwoFactor *core2fa.Service
	// Observe, if set, is told of every request once answered: the route
	// pattern that matched (UnmatchedRoute for none, so that labels stay
	// bounded), the method (OtherMethod beyond the standard ones), the
	// status and the time taken. It backs the Prometheus metrics.
	Observe func(route, method string, status int, elapsed time.Duration)
	// Trace, if set, starts a span for each request (OpenTelemetry, wired
	// by the application): it returns the context the handlers run with,
	// and end, called once answered with the route and status as Observe
	// gets them.
	Trace func(ctx context.Context, method string) (context.Context, func(route string, status int))
}

// UnmatchedRoute and OtherMethod are what Observe is given for requests that
// match no route and for non-standard methods.
const (
	UnmatchedRoute = "unmatched"
	OtherMethod    = "OTHER"
)

// ReadinessFunc reports whether the service can take traffic (nil = ready);
// it backs GET /api/ready and is called with a 1 s deadline.
type ReadinessFunc func(ctx context.Context) error

// ListenAddr is the TCP address the fx module listens on, e.g. ":8100".
type ListenAddr string

const (
	defaultBasePath       = "/api/auth"
	defaultBodyLimit      = 64 << 10
	defaultReadTimeout    = 10 * time.Second
	defaultWriteTimeout   = 15 * time.Second
	defaultIdleTimeout    = 60 * time.Second
	defaultRequestTimeout = 10 * time.Second
	readBufferSize        = 8 << 10
	defaultMaxConns       = 4096
	// fasthttp keeps the goroutine that served a connection, with the stack
	// it grew, for one to two of these once idle (10 s by default): after
	// a 256-connection burst, 2.5 MiB of stacks would outlive the traffic
	// by up to 20 s. Under load a goroutine is reused long before a second.
	idleWorker = time.Second
)

// Validate reports every configuration problem at once, so that a bad
// config fails at startup instead of silently trusting less (or more).
func (o Options) Validate() error {
	var errs []error
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("httpfiber: BaseURL %q must be an absolute http(s) URL", o.BaseURL))
	}
	if len(o.Secret) == 0 {
		errs = append(errs, errors.New("httpfiber: Secret is required"))
	}
	if o.BasePath != "" && (!strings.HasPrefix(o.BasePath, "/") || strings.HasSuffix(o.BasePath, "/")) {
		errs = append(errs, fmt.Errorf("httpfiber: BasePath %q must start and not end with /", o.BasePath))
	}
	for _, p := range o.TrustedProxies {
		if _, err := parsePrefix(p); err != nil {
			errs = append(errs, fmt.Errorf("httpfiber: trusted proxy %q: %w", p, err))
		}
	}
	if o.BodyLimit < 0 {
		errs = append(errs, errors.New("httpfiber: BodyLimit must not be negative"))
	}
	if o.RateLimitWindow < 0 || o.RateLimitWindow%time.Second != 0 {
		errs = append(errs, fmt.Errorf("httpfiber: RateLimitWindow %v must be whole seconds", o.RateLimitWindow))
	}
	if o.RateLimitMax < 0 {
		errs = append(errs, errors.New("httpfiber: RateLimitMax must not be negative"))
	}
	if o.MaxConns < 0 {
		errs = append(errs, errors.New("httpfiber: MaxConns must not be negative"))
	}
	if o.CookieCacheMaxAge != 0 && (o.CookieCacheMaxAge < time.Second || o.CookieCacheMaxAge%time.Second != 0 ||
		o.CookieCacheMaxAge > cookie.MaxAgeCap*time.Second) {
		errs = append(errs, fmt.Errorf("httpfiber: CookieCacheMaxAge %v must be whole seconds between 1s and 400 days", o.CookieCacheMaxAge))
	}
	return errors.Join(errs...)
}

func (o Options) withDefaults() Options {
	if o.BasePath == "" {
		o.BasePath = defaultBasePath
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if o.BodyLimit == 0 {
		o.BodyLimit = defaultBodyLimit
	}
	if o.MaxConns == 0 {
		o.MaxConns = defaultMaxConns
	}
	if o.RateLimitWindow == 0 {
		o.RateLimitWindow = ruleDefault.window
	}
	if o.RateLimitMax == 0 {
		o.RateLimitMax = ruleDefault.max
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = defaultReadTimeout
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = defaultWriteTimeout
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = defaultIdleTimeout
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = defaultRequestTimeout
	}
	if o.CookieCacheVersion == "" {
		o.CookieCacheVersion = "1"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// parsePrefix accepts an address or a CIDR; IPv4-mapped IPv6 is unmapped so
// that it matches the addresses clientIP compares.
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
