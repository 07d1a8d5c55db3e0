package core_test

import (
	"testing"
	"time"

	"github.com/authd/authd/core"
)

func signInFrom(email, password, ip string) core.SignInInput {
	return core.SignInInput{Email: email, Password: password, RememberMe: true, Meta: core.RequestMeta{IP: ip}}
}

func (e *env) failSignInFrom(email, ip string) {
	e.t.Helper()
	_, err := e.auth.SignInEmail(ctx, signInFrom(email, "wrong-password", ip))
	e.mustFail(err, core.ErrInvalidEmailOrPassword)
}

func (e *env) signInWith(in core.SignInInput) core.AuthResult {
	e.t.Helper()
	r, err := e.auth.SignInEmail(ctx, in)
	if err != nil || r.Session == nil {
		e.t.Fatalf("sign-in %s from %s (device %+v): %v", in.Email, in.Meta.IP, in.Meta.Device, err)
	}
	return r
}

func (e *env) signInFrom(email, password, ip string) core.AuthResult {
	e.t.Helper()
	return e.signInWith(signInFrom(email, password, ip))
}

func withDevice(in core.SignInInput, d core.KnownDevice) core.SignInInput {
	in.Meta.Device = d
	return in
}

// TestOneNetworkCannotLockTheOwnerOut: wrong passwords from one network
// (an IPv4 /24, an IPv6 /64) refuse that network only; the owner signs in
// from anywhere else, and unknown clients elsewhere are still answered 401.
func TestOneNetworkCannotLockTheOwnerOut(t *testing.T) {
	e := newEnv(t, func(p *core.Policy, _ *core.Deps) {
		p.FailedSignInsPerNetwork = 3
		p.FailedSignInsPerAccount = 100
	})
	e.signUp("u@x.test", "right-password")
	for _, c := range []struct {
		name               string
		attackers          []string // one network, spread over its addresses
		sameNetwork, owner string
	}{
		{"IPv4", []string{"203.0.113.7", "203.0.113.8", "::ffff:203.0.113.9"}, "203.0.113.250", "203.0.114.7"},
		{"IPv6", []string{"2001:db8:1:2::1", "2001:db8:1:2:ffff::2", "2001:db8:1:2::3"}, "2001:db8:1:2:abcd::9", "2001:db8:1:3::1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, ip := range c.attackers {
				e.failSignInFrom("u@x.test", ip)
			}
			e.wantThrottled(signInFrom("u@x.test", "right-password", c.sameNetwork), time.Hour)
			e.signInFrom("u@x.test", "right-password", c.owner)
			e.failSignInFrom("u@x.test", c.owner)
		})
	}
}

// TestManyNetworksLockUnknownClientsOut: past the account's budget over all
// networks, clients the account does not know are refused on every network,
// while the owner's known device gets in, even from a network that used up
// its own budget. A device of another user is no key to this account.
func TestManyNetworksLockUnknownClientsOut(t *testing.T) {
	e := newEnv(t, func(p *core.Policy, _ *core.Deps) {
		p.FailedSignInsPerNetwork = 3
		p.FailedSignInsPerAccount = 5
	})
	owner := e.signUp("u@x.test", "right-password").User.ID()
	other := e.signUp("other@x.test", "right-password").User.ID()
	for _, ip := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3", "192.0.2.1", "192.0.2.2"} {
		e.failSignInFrom("u@x.test", ip)
	}
	e.wantThrottled(signInFrom("u@x.test", "right-password", "203.0.113.1"), time.Hour)
	e.wantThrottled(signInFrom("u@x.test", "right-password", "2001:db8::1"), time.Hour)
	e.wantThrottled(withDevice(signInFrom("u@x.test", "right-password", "203.0.113.1"), core.KnownDevice{UserID: other, ID: "d-other"}), time.Hour)
	e.wantThrottled(withDevice(signInFrom("u@x.test", "right-password", "203.0.113.1"), core.KnownDevice{ID: "no-user"}), time.Hour)

	mine := core.KnownDevice{UserID: owner, ID: "d-owner"}
	e.signInWith(withDevice(signInFrom("u@x.test", "right-password", "203.0.113.1"), mine))
	e.signInWith(withDevice(signInFrom("u@x.test", "right-password", "198.51.100.9"), mine))
	e.signInWith(withDevice(signInFrom("other@x.test", "right-password", "203.0.113.1"), core.KnownDevice{UserID: other, ID: "d-other"}))
	e.signInFrom("other@x.test", "right-password", "198.51.100.9")
}

// TestKnownDeviceHasItsOwnBudget: a device's wrong passwords use up its own
// small budget, not the account's, and a device over its budget is one more
// unknown client: a stolen device cookie buys few guesses.
func TestKnownDeviceHasItsOwnBudget(t *testing.T) {
	e := newEnv(t, func(p *core.Policy, _ *core.Deps) {
		p.FailedSignInsPerNetwork = 2
		p.FailedSignInsPerAccount = 3
		p.FailedSignInsPerDevice = 2
	})
	owner := e.signUp("u@x.test", "right-password").User.ID()
	dev := core.KnownDevice{UserID: owner, ID: "d-1"}
	guess := withDevice(signInFrom("u@x.test", "wrong-password", "203.0.113.1"), dev)
	for range 2 {
		_, err := e.auth.SignInEmail(ctx, guess)
		e.mustFail(err, core.ErrInvalidEmailOrPassword)
	}
	// Not one of those was counted against the network or the account.
	e.failSignInFrom("u@x.test", "203.0.113.2")
	e.signInFrom("u@x.test", "right-password", "203.0.113.3")

	// Over its budget the device guesses on the network's, then is refused.
	_, err := e.auth.SignInEmail(ctx, guess)
	e.mustFail(err, core.ErrInvalidEmailOrPassword)
	e.wantThrottled(guess, time.Hour)
	// With the account locked too, another device still gets in.
	e.failSignInFrom("u@x.test", "198.51.100.1")
	e.wantThrottled(signInFrom("u@x.test", "right-password", "192.0.2.1"), time.Hour)
	e.wantThrottled(withDevice(signInFrom("u@x.test", "right-password", "192.0.2.1"), dev), time.Hour)
	e.signInWith(withDevice(signInFrom("u@x.test", "right-password", "192.0.2.1"), core.KnownDevice{UserID: owner, ID: "d-2"}))
}

// TestSessionPasswordChecksCount: wrong passwords given to verify-password,
// change-password and delete-user use up the same budgets as failed
// sign-ins, and a used-up budget refuses those checks too, before hashing.
func TestSessionPasswordChecksCount(t *testing.T) {
	e := newEnv(t, func(p *core.Policy, _ *core.Deps) { p.FailedSignInsPerNetwork = 3 })
	v := e.user("u@x.test", "right-password")
	here := core.RequestMeta{IP: "203.0.113.5"}
	checks := []struct {
		name string
		run  func(pw string) error
	}{
		{"verify-password", func(pw string) error { return e.auth.VerifyPassword(ctx, v, pw, here) }},
		{"change-password", func(pw string) error {
			_, err := e.auth.ChangePassword(ctx, v, core.ChangePasswordInput{CurrentPassword: pw, NewPassword: "new-password-1", Meta: here})
			return err
		}},
		{"delete-user", func(pw string) error {
			_, err := e.auth.DeleteUser(ctx, v, core.DeleteUserInput{Password: &pw, Meta: here})
			return err
		}},
	}
	for _, c := range checks {
		e.mustFail(c.run("wrong-password"), core.ErrInvalidPassword)
	}
	e.wantThrottled(signInFrom("u@x.test", "right-password", "203.0.113.6"), time.Hour)
	for _, c := range checks {
		ops := e.hasher.Ops.Load()
		if err := c.run("right-password"); kindOf(err) != core.KindRateLimited {
			t.Errorf("%s with the budget used up: %v, want 429", c.name, err)
		}
		if e.hasher.Ops.Load() != ops {
			t.Errorf("%s: a refused check was hashed", c.name)
		}
	}
	e.signInFrom("u@x.test", "right-password", "198.51.100.6")
}
