package httpfiber

import (
	"errors"
	"log/slog"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/cookie"
	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	"github.com/authd/authd/adapters/httpfiber/internal/origin"
	"github.com/authd/authd/adapters/httpfiber/tokens"
	"github.com/authd/authd/core"
)

// server holds what the middleware and probes share; one per App. The
// feature route groups get env.
type server struct {
	o       Options
	env     *endpoint.Env
	limiter core.RateLimiter
	ready   ReadinessFunc
	clock   core.Clock
	log     *slog.Logger
	origins origin.Policy
	proxies []netip.Prefix
	// rateRoutes are filled in as routes are added, before serving.
	rateRoutes rateRoutes
	extra      []Feature
}

// NewApp builds the Fiber app serving better-auth's email/password routes
// under o.BasePath, plus GET /api/health (liveness) and GET /api/ready
// (ready's verdict). limiter is used only when o.RateLimitEnabled, and must
// then be given; ready may be nil (always ready). Invalid options are an
// error (o.Validate's).
func NewApp(o Options, auth *core.Auth, limiter core.RateLimiter, ready ReadinessFunc, clock core.Clock, extra ...Feature) (*fiber.App, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.RateLimitEnabled && limiter == nil {
		return nil, errors.New("httpfiber: rate limiting is enabled but no limiter was given")
	}
	o = o.withDefaults()
	s := &server{
		o:       o,
		limiter: limiter,
		ready:   ready,
		clock:   clock,
		log:     o.Logger,
		origins: origin.NewPolicy(o.BaseURL, o.TrustedOrigins),
		extra:   extra,
	}
	secure := strings.HasPrefix(strings.ToLower(o.BaseURL), "https://")
	s.env = &endpoint.Env{
		Auth:               auth,
		Clock:              clock,
		Log:                o.Logger,
		BaseURL:            o.BaseURL,
		Origins:            s.origins,
		Cookies:            cookie.NewCodec(o.Secret, secure),
		Devices:            cookie.NewCodec(endpoint.DeviceCookieKey(o.Secret), secure),
		CookieCacheMaxAge:  o.CookieCacheMaxAge,
		CookieCacheVersion: o.CookieCacheVersion,
		ClientAddr:         s.client,
		Tokens:             o.Tokens,
		Bearer:             o.Bearer,
		TwoFactor:          o.TwoFactor,
	}
	if o.Tokens != nil {
		s.env.AfterGetSession = tokens.SetAuthJWT(s.env)
	}
	s.env.BaseOrigin, _ = origin.HTTPOrigin(o.BaseURL)
	var fiberProxies []string
	for _, p := range o.TrustedProxies {
		pfx, _ := parsePrefix(p) // Validate checked it
		s.proxies = append(s.proxies, pfx)
		fiberProxies = append(fiberProxies, pfx.String())
	}

	app := fiber.New(fiber.Config{
		ErrorHandler:              s.errorHandler,
		BodyLimit:                 o.BodyLimit,
		ReadTimeout:               o.ReadTimeout,
		WriteTimeout:              o.WriteTimeout,
		IdleTimeout:               o.IdleTimeout,
		Concurrency:               o.MaxConns,
		ReadBufferSize:            readBufferSize,
		StrictRouting:             true,
		CaseSensitive:             true,
		DisableStartupMessage:     true,
		DisableDefaultContentType: true,
		EnableTrustedProxyCheck:   true,
		TrustedProxies:            fiberProxies,
	})
	app.Server().MaxIdleWorkerDuration = idleWorker
	app.Use(s.edge)
	app.Use(s.cors)
	if o.RateLimitEnabled {
		app.Use(s.rateLimit)
	}
	if o.Bearer {
		app.Use(tokens.SetAuthToken(s.env))
	}
	if err := s.routes(app); err != nil {
		return nil, err
	}
	return app, nil
}
