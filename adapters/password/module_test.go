package password

import (
	"testing"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

// The limits in the graph (from AUTH_PASSWORD_HASH_*) are the hasher's.
func TestModuleAppliesLimits(t *testing.T) {
	var h *ScryptHasher
	app := fxtest.New(t, Module, fx.NopLogger, fx.Supply(Limits{Concurrent: 1, Queue: 3}), fx.Populate(&h))
	app.RequireStart()
	defer app.RequireStop()
	if h.maxQueue != 3 || !h.slots.TryAcquire(1) || h.slots.TryAcquire(1) {
		t.Fatalf("hasher queue %d; want 1 slot and a queue of 3", h.maxQueue)
	}
	h.slots.Release(1)
}
