package httpfiber

import (
	"log/slog"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/cookie"
	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	"github.com/authd/authd/adapters/httpfiber/internal/origin"
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
}

// NewApp builds the Fiber app serving better-auth's email/password routes
// under o.BasePath, plus GET /api/health (liveness) and GET /api/ready
// (ready's verdict). limiter is used only when o.RateLimitEnabled; ready may
// be nil (always ready). Invalid entries in o are dropped with an error
// logged; call o.Validate first to fail fast instead.
func NewApp(o Options, auth *core.Auth, limiter core.RateLimiter, ready ReadinessFunc, clock core.Clock) *fiber.App {
	o = o.withDefaults()
	s := &server{
		o:       o,
		limiter: limiter,
		ready:   ready,
		clock:   clock,
		log:     o.Logger,
		origins: origin.NewPolicy(o.BaseURL, o.TrustedOrigins),
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
	}
	s.env.BaseOrigin, _ = origin.HTTPOrigin(o.BaseURL)
	var fiberProxies []string
	for _, p := range o.TrustedProxies {
		pfx, err := parsePrefix(p)
		if err != nil {
			o.Logger.Error("httpfiber: ignoring invalid trusted proxy", "value", p, "error", err.Error())
			continue
		}
		s.proxies = append(s.proxies, pfx)
		fiberProxies = append(fiberProxies, pfx.String())
	}
	if err := o.Validate(); err != nil {
		o.Logger.Error("httpfiber: invalid options", "error", err.Error())
	}

	app := fiber.New(fiber.Config{
		ErrorHandler:              s.errorHandler,
		BodyLimit:                 o.BodyLimit,
		ReadTimeout:               o.ReadTimeout,
		WriteTimeout:              o.WriteTimeout,
		IdleTimeout:               o.IdleTimeout,
		ReadBufferSize:            readBufferSize,
		StrictRouting:             true,
		CaseSensitive:             true,
		DisableStartupMessage:     true,
		DisableDefaultContentType: true,
		EnableTrustedProxyCheck:   true,
		TrustedProxies:            fiberProxies,
	})
	app.Use(s.edge)
	app.Use(s.cors)
	if o.RateLimitEnabled {
		if limiter == nil {
			o.Logger.Error("httpfiber: rate limiting is enabled but no limiter was given; requests are not limited")
		} else {
			app.Use(s.rateLimit)
		}
	}
	s.routes(app)
	return app
}
