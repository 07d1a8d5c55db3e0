package httpfiber

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/authd/authd/core"
)

// Cookie names and formats are better-auth's (wire spec §5).
const (
	cookieSessionToken = "better-auth.session_token"
	cookieSessionData  = "better-auth.session_data"
	cookieDontRemember = "better-auth.dont_remember"
	securePrefix       = "__Secure-"
	// maxCookieMaxAge is the 400-day cap browsers (and better-call) enforce.
	maxCookieMaxAge = 400 * 24 * 60 * 60
)

// cookieCodec signs, parses and serialises the auth cookies.
type cookieCodec struct {
	secret []byte
	secure bool // https base URL: "__Secure-" names and the Secure attribute
}

func (cc cookieCodec) name(base string) string {
	if cc.secure {
		return securePrefix + base
	}
	return base
}

// sign returns the cookie value for v: encodeURIComponent(v + "." + sig),
// where sig is the padded standard base64 of HMAC-SHA256(secret, v).
func (cc cookieCodec) sign(v string) string {
	return core.EncodeURIComponent(v + "." + cc.signature(v))
}

func (cc cookieCodec) signature(v string) string {
	m := hmac.New(sha256.New, cc.secret)
	m.Write([]byte(v))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// signedCookie is the outcome of reading one signed cookie.
type signedCookie int

const (
	cookieAbsent   signedCookie = iota // missing or malformed: treated as no cookie
	cookieBadSig                       // well-formed but signed with another key
	cookieVerified                     // value is authentic
)

// readSigned finds cookie name in a Cookie header and verifies it the way
// better-call's getSignedCookie does. The returned value is only meaningful
// when the state is cookieVerified.
func (cc cookieCodec) readSigned(header, name string) (string, signedCookie) {
	raw, ok := cookieValue(header, name)
	if !ok || raw == "" {
		return "", cookieAbsent
	}
	dot := strings.LastIndexByte(raw, '.')
	if dot < 1 {
		return "", cookieAbsent
	}
	value, sig := raw[:dot], raw[dot+1:]
	if len(sig) != 44 || sig[43] != '=' {
		return "", cookieAbsent
	}
	// Strict decoding also rejects non-zero padding bits, so no two
	// spellings of one signature both verify.
	got, err := base64.StdEncoding.Strict().DecodeString(sig)
	if err != nil {
		return "", cookieBadSig
	}
	m := hmac.New(sha256.New, cc.secret)
	m.Write([]byte(value))
	if !hmac.Equal(got, m.Sum(nil)) {
		return "", cookieBadSig
	}
	return value, cookieVerified
}

// cookieValue parses a Cookie header as better-call's parseCookies does: the
// first occurrence of a name wins, a leading double quote strips the first
// and last characters, and the value is percent-decoded only if it contains
// "%" (kept raw when that fails).
func cookieValue(header, name string) (string, bool) {
	for i := 0; i < len(header); {
		eq := strings.IndexByte(header[i:], '=')
		if eq < 0 {
			return "", false
		}
		eq += i
		end := strings.IndexByte(header[i:], ';')
		if end < 0 {
			end = len(header)
		} else {
			end += i
			if end < eq {
				i = strings.LastIndexByte(header[:eq], ';') + 1
				continue
			}
		}
		if strings.TrimSpace(header[i:eq]) == name {
			v := strings.TrimSpace(header[eq+1 : end])
			if strings.HasPrefix(v, `"`) {
				if len(v) >= 2 {
					v = v[1 : len(v)-1]
				} else {
					v = ""
				}
			}
			if d, ok := decodeURIComponent(v); ok {
				v = d
			}
			return strings.Clone(v), true
		}
		i = end + 1
	}
	return "", false
}

// setCookie serialises one Set-Cookie value with better-call's attribute
// order. maxAge < 0 omits Max-Age (a browser-session cookie).
func (cc cookieCodec) setCookie(name, value string, maxAge int) string {
	var b strings.Builder
	b.Grow(len(name) + len(value) + 64)
	b.WriteString(name)
	b.WriteByte('=')
	b.WriteString(value)
	if maxAge >= 0 {
		if maxAge > maxCookieMaxAge {
			maxAge = maxCookieMaxAge
		}
		b.WriteString("; Max-Age=")
		b.WriteString(strconv.Itoa(maxAge))
	}
	b.WriteString("; Path=/; HttpOnly")
	if cc.secure {
		b.WriteString("; Secure")
	}
	b.WriteString("; SameSite=Lax")
	return b.String()
}
