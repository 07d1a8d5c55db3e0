package bunpg_test

import (
	"testing"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/bunpg/bunpgtest"
	"github.com/authd/authd/core/porttest"
)

// The shared repository contract, each group on its own fresh database.
func TestContract(t *testing.T) {
	porttest.RunAll(t, func(t *testing.T) porttest.Adapters {
		cfg, db := bunpgtest.NewMigratedDatabase(t)
		return porttest.Adapters{
			Users:         bunpg.NewUserRepository(db, cfg),
			Sessions:      bunpg.NewSessionRepository(db, cfg),
			Accounts:      bunpg.NewAccountRepository(db, cfg),
			Verifications: bunpg.NewVerificationRepository(db, cfg),
			Tx:            bunpg.NewTransactor(db, cfg),
			RateLimiter:   bunpg.NewRateLimiter(db, cfg),
			Keys:          bunpg.NewKeyRepository(db, cfg),
			TaskLock:      bunpg.NewTaskLock(db, cfg),
			TwoFactors:    bunpg.NewTwoFactorRepository(db, cfg),
		}
	})
}
