package core_test

import (
	"context"
	"errors"
	"testing"

	"github.com/authd/authd/core"
)

// gate is a SecondFactor that answers what it is told and records what it
// was asked.
type gate struct {
	answer core.SignInGate
	err    error
	asked  []string // "<email> <trustDevice>"
}

func (g *gate) AtSignIn(_ context.Context, u core.User, trust string) (core.SignInGate, error) {
	g.asked = append(g.asked, u.Email()+" "+trust)
	return g.answer, g.err
}

func TestSignInAsksTheSecondFactorBeforeIssuingASession(t *testing.T) {
	g := &gate{}
	e := newEnv(t, func(_ *core.Policy, d *core.Deps) { d.SecondFactor = g })
	u := e.user("ann@example.com", "correct horse battery")

	g.answer = core.SignInGate{Challenge: &core.Challenge{ID: "2fa-x", Methods: []string{"otp"}}}
	r, err := e.auth.SignInEmail(ctx, core.SignInInput{Email: "ann@example.com", Password: "correct horse battery",
		RememberMe: true, TrustDevice: "mac!trust-device-1"})
	if err != nil || r.Session != nil || r.Gate.Challenge == nil || r.Gate.Challenge.ID != "2fa-x" {
		t.Fatalf("challenged sign-in = %+v, %v; want the challenge and no session", r, err)
	}
	if n := e.countSessions(u.User.ID()); n != 1 {
		t.Errorf("%d sessions after a challenged sign-in, want only sign-up's", n)
	}
	if len(g.asked) != 1 || g.asked[0] != "ann@example.com mac!trust-device-1" {
		t.Errorf("the gate was asked %q", g.asked)
	}

	// A wrong password never reaches the gate.
	if _, err := e.auth.SignInEmail(ctx, core.SignInInput{Email: "ann@example.com", Password: "wrong password"}); !errors.Is(err, core.ErrInvalidEmailOrPassword) {
		t.Fatalf("wrong password: %v", err)
	}
	if len(g.asked) != 1 {
		t.Errorf("the gate was asked about a wrong password")
	}

	// A failing gate fails the sign-in, with nothing written.
	g.answer, g.err = core.SignInGate{}, core.ErrUnavailable
	if _, err := e.auth.SignInEmail(ctx, core.SignInInput{Email: "ann@example.com", Password: "correct horse battery"}); !errors.Is(err, core.ErrUnavailable) {
		t.Fatalf("failing gate: %v", err)
	}
	if n := e.countSessions(u.User.ID()); n != 1 {
		t.Errorf("%d sessions after a failing gate", n)
	}

	// A trusted device: a session, and the gate's answer passed on.
	g.answer, g.err = core.SignInGate{TrustDevice: "next"}, nil
	r, err = e.auth.SignInEmail(ctx, core.SignInInput{Email: "ann@example.com", Password: "correct horse battery"})
	if err != nil || r.Session == nil || r.Gate.TrustDevice != "next" {
		t.Fatalf("trusted sign-in = %+v, %v", r, err)
	}
}
