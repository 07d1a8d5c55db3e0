package httpfiber

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/account"
	"github.com/authd/authd/adapters/httpfiber/emailpassword"
	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	"github.com/authd/authd/adapters/httpfiber/sessions"
	"github.com/authd/authd/adapters/httpfiber/tokens"
	"github.com/authd/authd/adapters/httpfiber/twofactor"
)

// Feature is a route group: a route table built on the shared Env.
type Feature func(*endpoint.Env) []endpoint.Route

// FeatureGroup is the fx value group NewApp's optional features come from:
// a feature whose routes need a service of their own (social sign-in) is
// provided into it by the module that builds the service.
const FeatureGroup = `group:"httpfiber.features"`

// features are the route groups served under the base path; a new feature
// is a package with a route table and one line here (a plugin's table is
// empty while its service in Env is nil). A feature whose routes alone need a
// service (social sign-in) comes through FeatureGroup instead.
var features = []Feature{
	emailpassword.Routes,
	sessions.Routes,
	account.Routes,
	tokens.Routes,
	twofactor.Routes,
}

func (s *server) routes(app *fiber.App) {
	// Probes may use HEAD; the auth routes below stay GET-only like
	// better-auth's.
	for _, m := range []string{fiber.MethodGet, fiber.MethodHead} {
		s.add(app, m, healthPath, s.health)
		s.add(app, m, readyPath, s.readiness)
	}

	b := s.o.BasePath
	for _, feature := range append(features[:len(features):len(features)], s.extra...) {
		for _, rt := range feature(s.env) {
			s.add(app, rt.Method, b+rt.Path, s.env.Handler(rt))
		}
	}
	s.add(app, fiber.MethodGet, b+"/ok", s.ok)
	s.add(app, fiber.MethodGet, b+"/error", s.errorPage)
}

// add registers exactly one method (Fiber's Get would add HEAD too, which
// better-auth answers with 404) and records the route pattern for the logs
// and the rate limiter.
func (s *server) add(app *fiber.App, method, path string, h fiber.Handler) {
	if rel, ok := strings.CutPrefix(path, s.o.BasePath); ok && strings.HasPrefix(rel, "/") {
		s.rateRoutes.add(strings.ToLower(rel))
	}
	app.Add(method, path, func(c *fiber.Ctx) error {
		c.Locals(localRoute, path)
		return h(c)
	})
}
