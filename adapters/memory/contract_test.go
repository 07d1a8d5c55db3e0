package memory_test

import (
	"testing"

	"github.com/authd/authd/adapters/memory"
	"github.com/authd/authd/core/porttest"
)

func TestContract(t *testing.T) {
	porttest.RunAll(t, func(*testing.T) porttest.Adapters {
		s := memory.NewStore()
		return porttest.Adapters{Users: s.Users(), Sessions: s.Sessions(), Accounts: s.Accounts(),
			Verifications: s.Verifications(), Tx: s.Tx(), RateLimiter: s.RateLimiter(),
			Keys: memory.NewKeyRepository(), TaskLock: s.TaskLock(), TwoFactors: s.TwoFactors()}
	})
}
