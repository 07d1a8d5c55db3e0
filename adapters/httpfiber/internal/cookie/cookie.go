// Package cookie is better-call's cookie handling as better-auth uses it:
// signed values (HMAC-SHA256, wire spec §5.3), Cookie-header parsing and
// Set-Cookie serialisation, and the auth cookies' names.
package cookie

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
	SessionToken = "better-auth.session_token"
	SessionData  = "better-auth.session_data"
	DontRemember = "better-auth.dont_remember"
	// The twoFactor plugin's: the pending sign-in challenge and the
	// trusted device.
	TwoFactor   = "better-auth.two_factor"
	TrustDevice = "better-auth.trust_device"
	// KnownDevice is authd's own device cookie (see endpoint.DeviceCookieKey).
	KnownDevice  = "authd.known_device"
	securePrefix = "__Secure-"
	// MaxAgeCap is the 400-day cap browsers (and better-call) enforce.
	MaxAgeCap = 400 * 24 * 60 * 60
)

// Codec signs, parses and serialises the auth cookies.
type Codec struct {
	secure bool // https base URL: "__Secure-" names and the Secure attribute
	// macs holds keyed HMAC-SHA256 states: keying one costs two SHA-256
	// blocks and four allocations, and every request verifies a cookie.
	macs *sync.Pool
}

// NewCodec keys the signatures with secret; secure is true for an https
// base URL.
func NewCodec(secret []byte, secure bool) Codec {
	return Codec{secure: secure, macs: &sync.Pool{
		New: func() any { return hmac.New(sha256.New, secret) },
	}}
}

// MAC appends the HMAC-SHA256 of v under the secret to dst.
func (cc Codec) MAC(dst, v []byte) []byte {
	m := cc.macs.Get().(hash.Hash)
	m.Reset()
	m.Write(v)
	dst = m.Sum(dst)
	cc.macs.Put(m)
	return dst
}

// Name is base with the "__Secure-" prefix when the codec is secure.
func (cc Codec) Name(base string) string {
	if cc.secure {
		return securePrefix + base
	}
	return base
}

// Sign returns the cookie value for v: encodeURIComponent(v + "." + sig),
// where sig is the padded standard base64 of HMAC-SHA256(secret, v).
func (cc Codec) Sign(v string) string {
	return jsuri.EncodeURIComponent(v + "." + cc.signature(v))
}

func (cc Codec) signature(v string) string {
	var sum [sha256.Size]byte
	return base64.StdEncoding.EncodeToString(cc.MAC(sum[:0], []byte(v)))
}

// State is the outcome of reading one signed cookie.
type State int

const (
	Absent       State = iota // missing or malformed: treated as no cookie
	BadSignature              // well-formed but signed with another key
	Verified                  // value is authentic
)

// ReadSigned finds cookie name in a Cookie header and verifies it the way
// better-call's getSignedCookie does. The returned value is only meaningful
// when the state is Verified.
func (cc Codec) ReadSigned(header, name string) (string, State) {
	raw, ok := Value(header, name)
	if !ok || raw == "" {
		return "", Absent
	}
	dot := strings.LastIndexByte(raw, '.')
	if dot < 1 {
		return "", Absent
	}
	value, sig := raw[:dot], raw[dot+1:]
	if len(sig) != sigLen || sig[sigLen-1] != '=' {
		return "", Absent
	}
	// Comparing base64 text against the canonical encoding of the expected
	// MAC accepts exactly one spelling of it (no non-zero padding bits).
	var sum [sha256.Size]byte
	var want, got [sigLen]byte
	base64.StdEncoding.Encode(want[:], cc.MAC(sum[:0], []byte(value)))
	copy(got[:], sig)
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		return "", BadSignature
	}
	return value, Verified
}

// sigLen is the length of a signature: padded base64 of 32 bytes.
const sigLen = 44

// Value parses a Cookie header as better-call's parseCookies does: the
// first occurrence of a name wins (see Each and Text). The result
// may share header's memory.
func Value(header, name string) (v string, found bool) {
	Each(header, func(n, raw string) bool {
		if n != name {
			return true
		}
		v, found = Text(raw), true
		return false
	})
	return v, found
}

// Each calls fn with the name and raw value of each cookie in a Cookie
// header, split as better-call splits it, until fn returns false.
func Each(header string, fn func(name, raw string) bool) {
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

// Text is a raw cookie value as better-call reads it: trimmed, a
// leading double quote strips the first and last characters, and it is
// percent-decoded only if it contains "%" (kept raw when that fails).
func Text(raw string) string {
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

// SetCookie serialises one Set-Cookie value with better-call's attribute
// order. maxAge < 0 omits Max-Age (a browser-session cookie).
func (cc Codec) SetCookie(name, value string, maxAge int) string {
	var b strings.Builder
	b.Grow(len(name) + len(value) + 64)
	b.WriteString(name)
	b.WriteByte('=')
	b.WriteString(value)
	if maxAge >= 0 {
		if maxAge > MaxAgeCap {
			maxAge = MaxAgeCap
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
