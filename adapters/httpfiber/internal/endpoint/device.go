package endpoint

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/cookie"
	"github.com/authd/authd/core"
)

// The known-device cookie (cookie.KnownDevice) is OWASP's device cookie
// ("Slow Down Online Guessing Attacks with Device Cookies"): a browser that
// signed in to an account carries it, so that an account locked by wrong
// passwords from many networks still lets its owner's browsers in (core's
// checkFailures). It is authd's own, not better-auth's, and outlives
// sessions: sign-out keeps it.

// DeviceCookieKey derives the key device cookies are signed with from the
// app secret, so that no value signed for another cookie (a session token)
// is ever a valid device cookie, nor the other way round.
func DeviceCookieKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("authd known-device cookie v1"))
	return m.Sum(nil)
}

// knownDevice is what the request's device cookie says: the user it was
// issued to and its nonce, or the zero value when it is absent, forged or
// malformed.
func (e *Env) knownDevice(cs CookieState) core.KnownDevice {
	v, st := e.Devices.ReadSigned(cs.Header, e.Devices.Name(cookie.KnownDevice))
	if st != cookie.Verified {
		return core.KnownDevice{}
	}
	dot := strings.LastIndexByte(v, '.')
	if dot < 1 || dot == len(v)-1 {
		return core.KnownDevice{}
	}
	return core.KnownDevice{UserID: strings.Clone(v[:dot]), ID: strings.Clone(v[dot+1:])}
}

// SetKnownDevice gives the browser a fresh device cookie for userID after
// a successful sign-in. The nonce is new each time, so a device that used up
// its own budget of wrong passwords gets another only with the password.
func (e *Env) SetKnownDevice(c *fiber.Ctx, userID string) {
	e.PutCookie(c, cookie.KnownDevice, e.Devices.Sign(userID+"."+rand.Text()), cookie.MaxAgeCap)
}

// ClientMeta is Meta with the device the request's cookie names, for the
// routes whose wrong passwords are counted.
func (e *Env) ClientMeta(c *fiber.Ctx, r *Request) core.RequestMeta {
	m := e.Meta(c)
	m.Device = e.knownDevice(r.Cookie)
	return m
}
