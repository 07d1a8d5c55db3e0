package endpoint

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/cookie"
	"github.com/authd/authd/core/jsuri"
)

// bearerCookie is better-auth's bearer plugin (plugins spec §3.4): a
// "Bearer" Authorization header whose token carries a valid signature, or
// a raw token, which the server signs itself, stands for the session
// cookie. ok is false when the header is absent, of another scheme, empty
// or fails the signature check; the request's cookie then counts. A token
// that passes here still has to pass the cookie's strict form (a 44-char
// padded signature) in ReadCookies, as it does in better-auth.
func (e *Env) bearerCookie(c *fiber.Ctx) (value string, ok bool) {
	h := c.Request().Header.Peek(fiber.HeaderAuthorization)
	if len(h) < 7 || !strings.EqualFold(string(h[:7]), "bearer ") {
		return "", false
	}
	tok := strings.TrimSpace(string(h[7:]))
	switch {
	case tok == "":
		return "", false
	case strings.IndexByte(tok, '.') < 0:
		tok, _ = jsuri.DecodeURIComponent(e.Cookies.Sign(tok))
	case strings.IndexByte(tok, '%') >= 0:
		if d, ok := jsuri.DecodeURIComponent(tok); ok {
			tok = d
		}
	}
	parts := strings.Split(tok, ".")
	sig, ok := jsBase64(parts[1])
	if !ok {
		return "", false
	}
	var sum [sha256.Size]byte
	if !hmac.Equal(e.Cookies.MAC(sum[:0], []byte(parts[0])), sig) {
		return "", false
	}
	return tok, true
}

// jsBase64 decodes as @better-auth/utils' base64.decode, which the bearer
// plugin's HMAC check uses: the URL alphabet if the text has "-" or "_",
// else the standard one; it stops at the first "=" and drops leftover bits.
func jsBase64(s string) ([]byte, bool) {
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	if strings.ContainsAny(s, "-_") {
		alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	}
	out := make([]byte, 0, len(s)*3/4)
	var buf, bits uint
	for i := 0; i < len(s) && s[i] != '='; i++ {
		v := strings.IndexByte(alphabet, s[i])
		if v < 0 {
			return nil, false
		}
		buf = buf<<6 | uint(v)
		bits += 6
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(buf>>bits))
			buf &= 1<<bits - 1
		}
	}
	return out, true
}

// withBearer is cs with the session cookie replaced by a bearer value, as
// better-auth rewrites the request's Cookie header for the handlers.
func (e *Env) withBearer(cs CookieState, value string) CookieState {
	name := e.Cookies.Name(cookie.SessionToken)
	cs.Token, cs.Verified = "", false
	if tok, st := e.Cookies.ReadSigned(name+"="+jsuri.EncodeURIComponent(value), name); st == cookie.Verified {
		cs.Token, cs.Verified = strings.Clone(tok), true
	}
	return cs
}
