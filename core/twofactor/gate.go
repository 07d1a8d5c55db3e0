package twofactor

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"

	"github.com/authd/authd/core"
)

var _ core.SecondFactor = (*Gate)(nil)

// AtSignIn challenges a user with two-factor on (better-auth's after-hook on
// /sign-in/email), unless trustDevice names a device trusted for this user,
// which is then trusted anew under a fresh identifier. It runs inside the
// sign-in's transaction: the challenge rows and the session are written
// together or not at all.
func (g *Gate) AtSignIn(ctx context.Context, u core.User, trustDevice string) (core.SignInGate, error) {
	if !u.TwoFactorEnabled() {
		return core.SignInGate{}, nil
	}
	if trustDevice != "" {
		next, ok, err := g.rotateTrust(ctx, u.ID(), trustDevice)
		if err != nil {
			return core.SignInGate{}, err
		}
		if ok {
			return core.SignInGate{TrustDevice: next}, nil
		}
	}
	ch, err := g.challenge(ctx, u.ID())
	if err != nil {
		return core.SignInGate{}, err
	}
	return core.SignInGate{Challenge: ch, ClearTrustDevice: trustDevice != ""}, nil
}

// rotateTrust redeems a trusted-device cookie value ("<mac>!<identifier>")
// of userID and returns its successor. Consuming the row makes the check and
// the rotation one step: of two sign-ins replaying one cookie, one is
// trusted.
func (k *kit) rotateTrust(ctx context.Context, userID, cookie string) (string, bool, error) {
	mac, identifier, ok := strings.Cut(cookie, "!")
	if !ok || mac == "" || !strings.HasPrefix(identifier, trustPrefix) ||
		subtle.ConstantTimeCompare([]byte(mac), []byte(k.d.Keys.TrustMAC(userID, identifier))) != 1 {
		return "", false, nil
	}
	v, err := k.d.Verifications.Consume(ctx, identifier)
	if errors.Is(err, core.ErrVerificationNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if v.Value() != userID || v.Expired(k.now()) {
		return "", false, nil
	}
	next, err := k.trust(ctx, userID)
	return next, err == nil, err
}

// trust records a trusted device of userID for 30 days and returns the
// cookie value that names it.
func (k *kit) trust(ctx context.Context, userID string) (string, error) {
	rnd, err := k.random(trustIDChars, urlSafe)
	if err != nil {
		return "", err
	}
	identifier := trustPrefix + rnd
	if err := k.store(ctx, identifier, userID, k.now().Add(trustTTL)); err != nil {
		return "", err
	}
	return k.d.Keys.TrustMAC(userID, identifier) + "!" + identifier, nil
}

// challenge opens a sign-in challenge for userID: its row (→ user id) and
// its attempt budget, both for 600 s.
func (k *kit) challenge(ctx context.Context, userID string) (*core.Challenge, error) {
	rnd, err := k.random(challengeIDChars, urlSafe)
	if err != nil {
		return nil, err
	}
	id := challengePrefix + rnd
	expires := k.now().Add(challengeTTL)
	if err := k.store(ctx, id, userID, expires); err != nil {
		return nil, err
	}
	if err := k.store(ctx, attemptsPrefix+id, "0", expires); err != nil {
		return nil, err
	}
	methods := []string{}
	rec, err := k.d.Repo.ByUser(ctx, userID)
	switch {
	case err == nil && rec.Verified:
		methods = append(methods, MethodTOTP)
	case err != nil && !errors.Is(err, ErrNotFound):
		return nil, err
	}
	// OTP needs only a mailbox, which every user has.
	methods = append(methods, MethodOTP)
	return &core.Challenge{ID: id, Methods: methods}, nil
}
