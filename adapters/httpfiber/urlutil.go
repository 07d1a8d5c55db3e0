package httpfiber

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// JavaScript's URL helpers, reproduced where better-auth's wire output depends
// on them (cookie values, mailed-link parameters, redirect locations).

// decodeURIComponent fails, like JavaScript's, on a malformed escape or on
// bytes that are not UTF-8.
func decodeURIComponent(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", false
		}
		b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
		i += 2
	}
	if !utf8.Valid(b) {
		return "", false
	}
	return string(b), true
}

// formPair is one name/value of an application/x-www-form-urlencoded string,
// kept in order like URLSearchParams.
type formPair struct{ k, v string }

// parseFormEncoded is the WHATWG urlencoded parser: "+" is a space, a bad
// escape stays literal, and invalid UTF-8 becomes U+FFFD.
func parseFormEncoded(s string) []formPair {
	var out []formPair
	for _, part := range strings.Split(s, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		out = append(out, formPair{lenientDecode(k), lenientDecode(v)})
	}
	return out
}

func lenientDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// serializeForm is URLSearchParams#toString.
func serializeForm(pairs []formPair) string {
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		formEscape(&b, p.k)
		b.WriteByte('=')
		formEscape(&b, p.v)
	}
	return b.String()
}

const upperHex = "0123456789ABCDEF"

func formEscape(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlnumByte(c) || c == '*' || c == '-' || c == '.' || c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		}
	}
}

// setFormParam is URLSearchParams#set: the first pair with name k takes v,
// later ones are dropped; a new name is appended.
func setFormParam(pairs []formPair, k, v string) []formPair {
	out := pairs[:0:0]
	found := false
	for _, p := range pairs {
		if p.k != k {
			out = append(out, p)
			continue
		}
		if !found {
			out = append(out, formPair{k, v})
			found = true
		}
	}
	if !found {
		out = append(out, formPair{k, v})
	}
	return out
}

// resolveWithParam is better-auth's redirectCallback/redirectError:
// new URL(ref, base) with searchParams.set(k, v), returned as an absolute URL.
// ref must already have passed the redirect checks.
func resolveWithParam(base, ref, k, v string) string {
	if ref == "" {
		ref = strings.TrimRight(base, "/") + "/error"
	}
	b, err := url.Parse(base)
	if err != nil {
		return ""
	}
	r, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	u := b.ResolveReference(r)
	u.RawQuery = serializeForm(setFormParam(parseFormEncoded(u.RawQuery), k, v))
	u.ForceQuery = false
	return u.String()
}

// appendQueryParam is better-auth's appendQueryParams for one parameter: the
// existing query text is kept as it is, and a root-relative input stays
// relative.
func appendQueryParam(input, k, v string) string {
	var b strings.Builder
	formEscape(&b, k)
	b.WriteByte('=')
	formEscape(&b, v)
	q := b.String()
	frag := ""
	if i := strings.IndexByte(input, '#'); i >= 0 {
		input, frag = input[:i], input[i:]
	}
	switch {
	case !strings.Contains(input, "?"):
		input += "?" + q
	case strings.HasSuffix(input, "&") || strings.HasSuffix(input, "?"):
		input += q
	default:
		input += "&" + q
	}
	return input + frag
}

func isAlnumByte(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	default:
		return (c | 0x20) - 'a' + 10
	}
}
