package httpfiber

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"strconv"
	"strings"
	"sync"

	"github.com/authd/authd/core/jsuri"
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
	secure bool // https base URL: "__Secure-" names and the Secure attribute
	// macs holds keyed HMAC-SHA256 states: keying one costs two SHA-256
	// blocks and four allocations, and every request verifies a cookie.
	macs *sync.Pool
}

func newCookieCodec(secret []byte, secure bool) cookieCodec {
	return cookieCodec{secure: secure, macs: &sync.Pool{
		New: func() any { return hmac.New(sha256.New, secret) },
	}}
}

// mac appends the HMAC-SHA256 of v under the secret to dst.
func (cc cookieCodec) mac(dst, v []byte) []byte {
	m := cc.macs.Get().(hash.Hash)
	m.Reset()
	m.Write(v)
	dst = m.Sum(dst)
	cc.macs.Put(m)
	return dst
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
	return jsuri.EncodeURIComponent(v + "." + cc.signature(v))
}

func (cc cookieCodec) signature(v string) string {
	var sum [sha256.Size]byte
	return base64.StdEncoding.EncodeToString(cc.mac(sum[:0], []byte(v)))
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
	if len(sig) != sigLen || sig[sigLen-1] != '=' {
		return "", cookieAbsent
	}
	// Comparing base64 text against the canonical encoding of the expected
	// MAC accepts exactly one spelling of it (no non-zero padding bits).
	var sum [sha256.Size]byte
	var want, got [sigLen]byte
	base64.StdEncoding.Encode(want[:], cc.mac(sum[:0], []byte(value)))
	copy(got[:], sig)
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		return "", cookieBadSig
	}
	return value, cookieVerified
}

// sigLen is the length of a signature: padded base64 of 32 bytes.
const sigLen = 44

// cookieValue parses a Cookie header as better-call's parseCookies does: the
// first occurrence of a name wins (see eachCookie and cookieText). The result
// may share header's memory.
func cookieValue(header, name string) (v string, found bool) {
	eachCookie(header, func(n, raw string) bool {
		if n != name {
			return true
		}
		v, found = cookieText(raw), true
		return false
	})
	return v, found
}

// eachCookie calls fn with the name and raw value of each cookie in a Cookie
// header, split as better-call splits it, until fn returns false.
func eachCookie(header string, fn func(name, raw string) bool) {
	for i := 0; i < len(header); {
		eq := strings.IndexByte(header[i:], '=')
		if eq < 0 {
			return
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
		if !fn(strings.TrimSpace(header[i:eq]), header[eq+1:end]) {
			return
		}
		i = end + 1
	}
}

// cookieText is a raw cookie value as better-call reads it: trimmed, a
// leading double quote strips the first and last characters, and it is
// percent-decoded only if it contains "%" (kept raw when that fails).
func cookieText(raw string) string {
	v := strings.TrimSpace(raw)
	if strings.HasPrefix(v, `"`) {
		if len(v) >= 2 {
			v = v[1 : len(v)-1]
		} else {
			v = ""
		}
	}
	if d, ok := jsuri.DecodeURIComponent(v); ok {
		v = d
	}
	return v
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
