package bunpg

import (
	"go.uber.org/fx"

	"github.com/authd/authd/core"
	"github.com/authd/authd/core/tokens"
	"github.com/authd/authd/core/twofactor"
)

// Module provides the shared *bun.DB and binds every Postgres adapter to its
// core port. It needs a bunpg.Config in the graph. The rate limiter is left
// to the application, which may keep counters in memory instead.
var Module = fx.Module("bunpg",
	fx.Provide(
		NewDB,
		fx.Annotate(NewUserRepository, fx.As(new(core.UserRepository))),
		fx.Annotate(NewSessionRepository, fx.As(new(core.SessionRepository))),
		fx.Annotate(NewAccountRepository, fx.As(new(core.AccountRepository))),
		fx.Annotate(NewVerificationRepository, fx.As(new(core.VerificationRepository))),
		fx.Annotate(NewTransactor, fx.As(new(core.Transactor))),
		fx.Annotate(NewKeyRepository, fx.As(new(tokens.KeyRepository))),
		fx.Annotate(NewTaskLock, fx.As(new(core.TaskLock))),
		fx.Annotate(NewTwoFactorRepository, fx.As(new(twofactor.Repository))),
	),
)
