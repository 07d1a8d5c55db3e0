package memory_test

import (
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/authd/authd/adapters/memory"
	"github.com/authd/authd/core"
)

// The module's ports must share one store: a user written through one port
// is visible to the others.
func TestModuleProvidesPortsOnOneStore(t *testing.T) {
	var (
		users    core.UserRepository
		sessions core.SessionRepository
		accounts core.AccountRepository
		verifs   core.VerificationRepository
		tx       core.Transactor
		limiter  core.RateLimiter
	)
	app := fxtest.New(t, memory.Module, fx.NopLogger,
		fx.Populate(&users, &sessions, &accounts, &verifs, &tx, &limiter))
	app.RequireStart()
	defer app.RequireStop()

	ctx, now := t.Context(), core.SystemClock{}.Now()
	u, err := core.NewUser("mod-user", "M", "module@example.com", nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := users.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	s, _ := core.NewSession("mod-s", "mod-token", u.ID(), now, time.Hour, "", "")
	if err := sessions.Create(ctx, s); err != nil {
		t.Fatalf("Sessions.Create for a user made through Users: %v", err)
	}
	a, _ := core.NewCredentialAccount("mod-a", u.ID(), "salt:hash", now)
	if err := accounts.Create(ctx, a); err != nil {
		t.Fatalf("Accounts.Create for a user made through Users: %v", err)
	}
}
