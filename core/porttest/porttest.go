// Package porttest is the contract suite for the repository ports in core.
// Every adapter runs it, so that the in-memory store used by service tests and
// the Postgres store used in production cannot drift apart. The cases follow
// the doc comments in core/ports.go; a case that only one kind of store could
// pass does not belong here.
package porttest

import (
	"testing"

	"github.com/authd/authd/core"
	"github.com/authd/authd/core/tokens"
	"github.com/authd/authd/core/twofactor"
)

// Adapters is the set of ports under test. The repositories and the Transactor
// must share one store, because the suite checks cascades and transactions
// across them.
type Adapters struct {
	Users         core.UserRepository
	Sessions      core.SessionRepository
	Accounts      core.AccountRepository
	Verifications core.VerificationRepository
	Tx            core.Transactor
	RateLimiter   core.RateLimiter
	Keys          tokens.KeyRepository
	TaskLock      core.TaskLock
	TwoFactors    twofactor.Repository
}

// RunAll runs every group as a parallel subtest. Each group calls newAdapters
// once and shares the result among its cases, which run in parallel on
// random, disjoint data; newAdapters should register its own cleanup.
func RunAll(t *testing.T, newAdapters func(t *testing.T) Adapters) {
	groups := []struct {
		name string
		run  func(*testing.T, func(*testing.T) Adapters)
	}{
		{"Users", RunUsers}, {"Sessions", RunSessions}, {"Accounts", RunAccounts},
		{"Verifications", RunVerifications}, {"Tx", RunTx}, {"RateLimiter", RunRateLimiter},
		{"Keys", RunKeys},
		{"TaskLock", RunTaskLock}, {"TwoFactors", RunTwoFactors},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, newAdapters)
		})
	}
}

type testCase struct {
	name string
	run  func(t *testing.T, a Adapters)
}

// runGroup checks that the ports the group needs are present (a nil port
// would otherwise surface as a confusing panic) and runs the cases.
func runGroup(t *testing.T, newAdapters func(*testing.T) Adapters, need func(Adapters) []string, cases []testCase) {
	t.Helper()
	a := newAdapters(t)
	for _, missing := range need(a) {
		t.Fatalf("Adapters.%s is nil", missing)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, a)
		})
	}
}

func nilPorts(a Adapters, names ...string) []string {
	set := map[string]bool{
		"Users": a.Users == nil, "Sessions": a.Sessions == nil, "Accounts": a.Accounts == nil,
		"Verifications": a.Verifications == nil, "Tx": a.Tx == nil, "RateLimiter": a.RateLimiter == nil,
		"Keys":     a.Keys == nil,
		"TaskLock": a.TaskLock == nil, "TwoFactors": a.TwoFactors == nil,
	}
	var out []string
	for _, n := range names {
		if set[n] {
			out = append(out, n)
		}
	}
	return out
}
