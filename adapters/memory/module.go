package memory

import (
	"go.uber.org/fx"

	"github.com/authd/authd/core"
	"github.com/authd/authd/core/tokens"
	"github.com/authd/authd/core/twofactor"
)

// Module provides one Store and every port on it, in place of the Postgres
// module.
var Module = fx.Module("memory",
	fx.Provide(
		NewStore,
		fx.Annotate((*Store).Users, fx.As(new(core.UserRepository))),
		fx.Annotate((*Store).Sessions, fx.As(new(core.SessionRepository))),
		fx.Annotate((*Store).Accounts, fx.As(new(core.AccountRepository))),
		fx.Annotate((*Store).Verifications, fx.As(new(core.VerificationRepository))),
		fx.Annotate((*Store).Tx, fx.As(new(core.Transactor))),
		fx.Annotate((*Store).RateLimiter, fx.As(new(core.RateLimiter))),
		fx.Annotate(NewKeyRepository, fx.As(new(tokens.KeyRepository))),
		fx.Annotate((*Store).TaskLock, fx.As(new(core.TaskLock))),
		fx.Annotate((*Store).TwoFactors, fx.As(new(twofactor.Repository))),
	),
)
