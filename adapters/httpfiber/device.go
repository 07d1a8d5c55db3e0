package httpfiber

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/core"
)

// cookieKnownDevice is OWASP's device cookie ("Slow Down Online Guessing
// Attacks with Device Cookies"): a browser that signed in to an account
// carries it, so that an account locked by wrong passwords from many
// networks still lets its owner's browsers in (core's checkFailures). It is
// authd's own, not better-auth's, and outlives sessions: sign-out keeps it.
const cookieKnownDevice = "authd.known_device"

// deviceCookieKey derives the key device cookies are signed with from the
// app secret, so that no value signed for another cookie (a session token)
// is ever a valid device cookie, nor the other way round.
func deviceCookieKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("authd known-device cookie v1"))
	return m.Sum(nil)
}

// knownDevice is what the request's device cookie says: the user it was
// issued to and its nonce, or the zero value when it is absent, forged or
// malformed.
func (s *server) knownDevice(cs cookieState) core.KnownDevice {
	v, st := s.devices.readSigned(cs.header, s.devices.name(cookieKnownDevice))
	if st != cookieVerified {
		return core.KnownDevice{}
	}
	dot := strings.LastIndexByte(v, '.')
	if dot < 1 || dot == len(v)-1 {
		return core.KnownDevice{}
	}
	return core.KnownDevice{UserID: strings.Clone(v[:dot]), ID: strings.Clone(v[dot+1:])}
}

// setKnownDevice gives the browser a fresh device cookie for userID after
// a successful sign-in. The nonce is new each time, so a device that used up
// its own budget of wrong passwords gets another only with the password.
func (s *server) setKnownDevice(c *fiber.Ctx, userID string) {
	s.putCookie(c, cookieKnownDevice, s.devices.sign(userID+"."+rand.Text()), maxCookieMaxAge)
}

// clientMeta is meta with the device the request's cookie names, for the
// routes whose wrong passwords are counted.
func (s *server) clientMeta(c *fiber.Ctx, r *request) core.RequestMeta {
	m := s.meta(c)
	m.Device = s.knownDevice(r.cookie)
	return m
}
