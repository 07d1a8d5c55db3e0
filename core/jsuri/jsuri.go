// Package jsuri reproduces the JavaScript URL helpers whose exact output
// better-auth's wire format depends on: encodeURIComponent and
// decodeURIComponent, and URLSearchParams' application/x-www-form-urlencoded
// parsing and serialisation. It is a standard-library-only leaf so that core
// (mailed links) and the HTTP adapter (cookie values, query strings,
// redirects) share one copy.
package jsuri

import (
	"strings"
	"unicode/utf8"
)

const upperHex = "0123456789ABCDEF"

// EncodeURIComponent escapes s like JavaScript's function of that name:
// everything but A-Z a-z 0-9 - _ . ! ~ * ' ( ).
func EncodeURIComponent(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlnum(c) || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
	}
	return b.String()
}

// DecodeURIComponent fails, like JavaScript's, on a malformed escape or on
// bytes that are not UTF-8.
func DecodeURIComponent(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 {
		return s, true
	}
	if !ValidEscapes(s) {
		return "", false
	}
	d := UnescapeLenient(s)
	if !utf8.ValidString(d) {
		return "", false
	}
	return d, true
}

// ValidEscapes reports whether every "%" in s starts a two-digit hex escape.
func ValidEscapes(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && (i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2])) {
			return false
		}
	}
	return true
}

// UnescapeLenient decodes the well-formed %XX escapes of s and leaves
// malformed ones as they are; the result may not be UTF-8.
func UnescapeLenient(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isAlnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

func unhex(c byte) byte {
	if c >= '0' && c <= '9' {
		return c - '0'
	}
	return (c | 0x20) - 'a' + 10
}
