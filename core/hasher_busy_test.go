package core_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/authd/authd/core"
)

const busyTestPassword = "correct horse battery"

// countingUsers counts the user lookups the engine makes.
type countingUsers struct {
	core.UserRepository
	lookups atomic.Int64
}

func (u *countingUsers) ByEmail(ctx context.Context, email string) (core.User, error) {
	u.lookups.Add(1)
	return u.UserRepository.ByEmail(ctx, email)
}

// A hasher that is turning callers away makes sign-in and sign-up answer
// 503 before any lookup, the same for known and unknown addresses, and
// without counting a failed sign-in against the address.
func TestBusyHasherRefusesBeforeLookups(t *testing.T) {
	var users *countingUsers
	e := newEnv(t, func(_ *core.Policy, d *core.Deps) {
		users = &countingUsers{UserRepository: d.Users}
		d.Users = users
	})
	e.signUp("known@example.com", busyTestPassword)
	e.hasher.Saturated.Store(true)
	lookups, ops := users.lookups.Load(), e.hasher.Ops.Load()

	attempts := map[string]func() error{
		"sign-in, known address": func() error {
			_, err := e.auth.SignInEmail(ctx, core.SignInInput{Email: "known@example.com", Password: busyTestPassword})
			return err
		},
		"sign-in, unknown address": func() error {
			_, err := e.auth.SignInEmail(ctx, core.SignInInput{Email: "nobody@example.com", Password: busyTestPassword})
			return err
		},
		"sign-up, taken address": func() error {
			_, err := e.auth.SignUpEmail(ctx, core.SignUpInput{Name: "A", Email: "known@example.com", Password: busyTestPassword})
			return err
		},
		"sign-up, new address": func() error {
			_, err := e.auth.SignUpEmail(ctx, core.SignUpInput{Name: "A", Email: "new@example.com", Password: busyTestPassword})
			return err
		},
	}
	var first error
	for name, attempt := range attempts {
		err := attempt()
		if !errors.Is(err, core.ErrUnavailable) {
			t.Errorf("%s: %v, want %v", name, err, core.ErrUnavailable)
			continue
		}
		if first == nil {
			first = err
		} else if err.Error() != first.Error() {
			t.Errorf("%s answers %q, another attempt %q: the answer must not depend on the address", name, err, first)
		}
	}
	if n := users.lookups.Load() - lookups; n != 0 {
		t.Errorf("%d user lookups while the hasher was busy, want none", n)
	}
	if n := e.hasher.Ops.Load() - ops; n != 0 {
		t.Errorf("%d hash operations while the hasher was busy, want none", n)
	}

	e.hasher.Saturated.Store(false)
	e.signIn("known@example.com", busyTestPassword)
	for range e.policy.FailedSignInsPerNetwork {
		if _, err := e.auth.SignInEmail(ctx, core.SignInInput{Email: "nobody@example.com", Password: "wrong password"}); !errors.Is(err, core.ErrInvalidEmailOrPassword) {
			t.Fatalf("a sign-in refused while busy was counted as a failure: %v", err)
		}
	}
}
