package httpfiber

import (
	"reflect"
	"runtime"
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

func (s *server) routes(app *fiber.App) error {
	var ops []apiOp
	// Probes may use HEAD; the auth routes below stay GET-only like
	// better-auth's.
	for _, m := range []string{fiber.MethodGet, fiber.MethodHead} {
		s.add(app, m, healthPath, s.health)
		s.add(app, m, readyPath, s.readiness)
		ops = append(ops, apiOp{m, healthPath, "probes", nil}, apiOp{m, readyPath, "probes", nil})
	}

	b := s.o.BasePath
	for _, feature := range append(features[:len(features):len(features)], s.extra...) {
		tag := featureName(feature)
		for _, rt := range feature(s.env) {
			s.add(app, rt.Method, b+rt.Path, s.env.Handler(rt))
			ops = append(ops, apiOp{rt.Method, b + rt.Path, tag, &rt})
		}
	}
	s.add(app, fiber.MethodGet, b+"/ok", s.ok)
	s.add(app, fiber.MethodGet, b+"/error", s.errorPage)
	ops = append(ops, apiOp{fiber.MethodGet, b + "/ok", "probes", nil}, apiOp{fiber.MethodGet, b + "/error", "probes", nil},
		apiOp{fiber.MethodGet, b + openAPIPath, "open-api", nil})
	doc, err := openAPIDocument(s.o.BaseURL, ops)
	if err != nil {
		return err
	}
	s.add(app, fiber.MethodGet, b+openAPIPath, func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(doc)
	})
	return nil
}

// featureName tags a feature's routes in the OpenAPI document with the name
// of the package that declares it ("sessions" for sessions.Routes).
func featureName(f Feature) string {
	name := runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name()
	name = name[strings.LastIndexByte(name, '/')+1:]
	pkg, _, _ := strings.Cut(name, ".")
	return pkg
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
