package httpfiber

import (
	"context"
	"errors"
	"net"
	"sync/atomic"

	"github.com/gofiber/fiber/v2"
	"go.uber.org/fx"

	"github.com/authd/authd/core"
)

// Module serves the auth API. It expects in the graph: Options, ListenAddr,
// *core.Auth, core.RateLimiter, core.Clock and, optionally, ReadinessFunc
// (absent = always ready; called at most once a second, see sharedReadiness).
// It provides the *fiber.App (invalid Options fail the graph) and a
// lifecycle hook:
// OnStart binds ListenAddr synchronously (a busy port fails startup) and
// serves in the background, shutting the fx app down with exit code 1 if
// serving fails later; OnStop first makes /api/ready answer 503, then drains
// the server within the stop context.
var Module = fx.Module("httpfiber",
	fx.Provide(fx.Private, newDrain),
	fx.Provide(provideApp),
	fx.Invoke(registerLifecycle),
)

// drain flips readiness off when shutdown begins.
type drain struct{ on atomic.Bool }

func newDrain() *drain { return &drain{} }

var errDraining = errors.New("server is shutting down")

type appParams struct {
	fx.In
	Options Options
	Auth    *core.Auth
	Limiter core.RateLimiter
	Clock   core.Clock
	Ready   ReadinessFunc `optional:"true"`
	Drain   *drain
	// Features are the optional route groups (social sign-in, ...), each
	// provided into the group by the module that builds its service.
	Features []Feature `group:"httpfiber.features"`
}

func provideApp(p appParams) (*fiber.App, error) {
	var deps *sharedReadiness
	if p.Ready != nil {
		deps = newSharedReadiness(p.Ready, p.Clock)
	}
	// Draining is answered at once; only the dependency check is shared.
	ready := func(ctx context.Context) error {
		if p.Drain.on.Load() {
			return errDraining
		}
		if deps == nil {
			return nil
		}
		return deps.ready(ctx)
	}
	return NewApp(p.Options, p.Auth, p.Limiter, ready, p.Clock, p.Features...)
}

type lifecycleParams struct {
	fx.In
	LC         fx.Lifecycle
	Shutdowner fx.Shutdowner
	App        *fiber.App
	Addr       ListenAddr
	Options    Options
	Drain      *drain
}

func registerLifecycle(p lifecycleParams) {
	log := p.Options.withDefaults().Logger
	p.LC.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			var lc net.ListenConfig
			ln, err := lc.Listen(ctx, "tcp", string(p.Addr))
			if err != nil {
				return err
			}
			log.Info("http server listening", "addr", ln.Addr().String())
			go func() {
				if err := p.App.Listener(ln); err != nil {
					log.Error("http server failed", "error", err.Error())
					_ = p.Shutdowner.Shutdown(fx.ExitCode(1))
				}
			}()
			return nil
		},
		OnStop: func(ctx context.Context) error {
			p.Drain.on.Store(true)
			return p.App.ShutdownWithContext(ctx)
		},
	})
}
